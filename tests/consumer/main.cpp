// Links against the installed library and calls into it: proves headers, archive and config are complete.
#include <animegan/animegan.h>
#include <animegan/video.h>

#include <cstdio>

int main() {
    try {
        animegan::Generator::load("/nonexistent/model.gguf");
    } catch (const animegan::Error& e) {
        // The video code links too; video_files_available() opens the installed FFmpeg module, when the build
        // had FFmpeg.
        std::printf("consumer ok (%s kernels, video files %s): %s\n", animegan::kernels_isa(),
                    animegan::video_files_available() ? "available" : "unavailable", e.what());
        return 0;
    }
    return 1;
}
