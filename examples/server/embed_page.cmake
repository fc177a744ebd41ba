# Writes OUTPUT: a header holding the file INPUT as the raw string literal kPageHtml.
file(READ ${INPUT} PAGE)
string(FIND "${PAGE}" ")PAGE_HTML\"" CLASH)
if(NOT CLASH EQUAL -1)
    message(FATAL_ERROR "${INPUT} contains the raw string delimiter )PAGE_HTML\"")
endif()
file(WRITE ${OUTPUT} "// Generated from page.html by embed_page.cmake; do not edit.\n#pragma once\n\n"
                     "inline constexpr char kPageHtml[] = R\"PAGE_HTML(${PAGE})PAGE_HTML\";\n")
