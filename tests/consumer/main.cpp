// Links against the installed library and calls into it: proves headers, archive and config are complete.
#include <animegan/animegan.h>

#include <cstdio>

int main() {
    try {
        animegan::Generator::load("/nonexistent/model.gguf");
    } catch (const animegan::Error& e) {
        std::printf("consumer ok (%s kernels): %s\n", animegan::kernels_isa(), e.what());
        return 0;
    }
    return 1;
}
