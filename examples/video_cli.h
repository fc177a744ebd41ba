// animegan2's video mode: what main() parsed, handed to run_video (video_cli.cpp).
#pragma once

#include <string>

#include "animegan/video.h"

struct VideoCommand {
    std::string model_path, input_path, output_path;
    std::string detector_path, face_model_path;  // the face pass, when detector_path is set
    int threads = 0;
    bool quiet = false;
    animegan::VideoOptions options;
};

// Runs the command and returns the exit status: 0, or 1 with a one-line reason on stderr.
int run_video(const VideoCommand& command);
