// YUV4MPEG2 ("y4m"): the uncompressed stream ffmpeg reads and writes on pipes (-f yuv4mpegpipe). A text
// header line (size, frame rate, aspect, chroma layout), then per frame a "FRAME" line and the Y, U, V
// planes. 8-bit 4:2:0, 4:2:2, 4:4:4 and mono; BT.601 colours (what ffmpeg assumes for y4m), limited range
// unless the header says XCOLORRANGE=FULL. Needs no FFmpeg.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "engine/video/frame_io.h"

namespace animegan::video {

// Reads "-" (stdin) or a .y4m file. Frames are scaled to the SourceSettings size by resize_image.
std::unique_ptr<FrameSource> open_y4m_source(const std::string& path, const SourceSettings& settings);

// Writes "-" (stdout) or a .y4m file with the source's frame rate, aspect and chroma layout (4:2:0 for
// anything but 4:2:2 and 4:4:4). Copied packets are dropped with a warning: y4m holds video only.
std::unique_ptr<FrameSink> open_y4m_sink(const std::string& path, const VideoFormat& format);

// Conversions between interleaved RGB and Y, U, V planes (chroma planes of ceil(w / sx) x ceil(h / sy)),
// BT.601.
void yuv_to_rgb(const uint8_t* y, const uint8_t* u, const uint8_t* v, int width, int height, int sx, int sy,
                bool full_range, uint8_t* rgb);
void rgb_to_yuv(const uint8_t* rgb, int width, int height, int sx, int sy, bool full_range, uint8_t* y,
                uint8_t* u, uint8_t* v);

}  // namespace animegan::video
