// Opens the FFmpeg module (ffmpeg_module.h) the first time a video file is opened, and forwards to it.
// Where it looks: $ANIMEGAN_FFMPEG_MODULE alone when that is set; otherwise where an installed program finds
// it (relative to its own directory: installs to any prefix), the build tree's module, and the configured
// install path (for applications installed elsewhere). CMake compiles in the paths.
#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <vector>

#include "animegan/video.h"
#include "engine/video/ffmpeg_module.h"

namespace animegan {
namespace video {
namespace {

// The module the environment names, or nullptr.
const char* chosen_module() {
    const char* chosen = std::getenv("ANIMEGAN_FFMPEG_MODULE");
    return chosen && *chosen ? chosen : nullptr;
}

// Where the module is installed next to this program, if it is an installed one, or "".
std::string module_beside_program() {
    char self[PATH_MAX];
    const ssize_t length = readlink("/proc/self/exe", self, sizeof self);
    if (length <= 0 || size_t(length) >= sizeof self) return "";
    const std::string program(self, size_t(length));
    return program.substr(0, program.rfind('/') + 1) + ANIMEGAN_FFMPEG_MODULE_FROM_BINDIR;
}

std::vector<std::string> module_candidates() {
    if (const char* chosen = chosen_module()) return {chosen};
    std::vector<std::string> candidates;
    const std::string beside = module_beside_program();
    if (!beside.empty() && access(beside.c_str(), F_OK) == 0) candidates.push_back(beside);
    candidates.push_back(ANIMEGAN_FFMPEG_MODULE_BUILD_PATH);
    candidates.push_back(ANIMEGAN_FFMPEG_MODULE_INSTALL_PATH);
    return candidates;
}

// The module at path, or nullptr and why not.
const FfmpegModule* open_module(const std::string& path, std::string& why_not) {
    // RTLD_NOW: a missing FFmpeg library or symbol is reported here, not at some later call.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        why_not = dlerror();
        return nullptr;
    }
    const auto entry = reinterpret_cast<const FfmpegModule* (*)()>(dlsym(handle, kFfmpegModuleEntry));
    const FfmpegModule* module = entry ? entry() : nullptr;
    if (!module) {
        why_not = path + ": not an animegan FFmpeg module (no " + kFfmpegModuleEntry + ")";
    } else if (module->abi != kFfmpegModuleAbi || module->layout != ffmpeg_module_layout()) {
        why_not = path + ": a module of another animegan version (interface " + std::to_string(module->abi) +
                  (module->abi == kFfmpegModuleAbi ? " but other type sizes" : "") + ", this library's is " +
                  std::to_string(kFfmpegModuleAbi) + ")";
    } else {
        // Kept open for good: the sources and sinks it makes, and FFmpeg's own state, live in it.
        return module;
    }
    dlclose(handle);
    return nullptr;
}

struct LoadedModule {
    const FfmpegModule* module = nullptr;
    std::string failure;  // every candidate's reason, when none loaded
};

const LoadedModule& loaded_module() {
    static const LoadedModule loaded = [] {
        LoadedModule result;
        for (const std::string& path : module_candidates()) {
            std::string why_not;
            result.module = open_module(path, why_not);
            if (result.module) return result;
            result.failure += (result.failure.empty() ? "" : "; ") + why_not;
        }
        return result;
    }();
    return loaded;
}

const FfmpegModule& module_for(const std::string& path) {
    const LoadedModule& loaded = loaded_module();
    if (!loaded.module) {
        throw Error(path + ": video files need " + ANIMEGAN_FFMPEG_MODULE_NAME + ": " + loaded.failure +
                    (chosen_module() ? "" : " (ANIMEGAN_FFMPEG_MODULE=path names it when elsewhere)") +
                    "; y4m pipes work without it (-i - -o -)");
    }
    return *loaded.module;
}

}  // namespace

std::unique_ptr<FrameSource> open_container_source(const std::string& path, const SourceSettings& settings) {
    return module_for(path).open_source(path, settings);
}

std::unique_ptr<FrameSink> open_container_sink(const std::string& path, const FrameSource& source,
                                               const SinkSettings& settings) {
    return module_for(path).open_sink(path, source, settings);
}

}  // namespace video

bool video_files_available() {
    return video::loaded_module().module != nullptr;
}

}  // namespace animegan
