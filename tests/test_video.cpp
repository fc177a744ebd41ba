// Video: the stabilizer and y4m streams on their own, then whole clips made at test time by the ffmpeg
// command line from ../shared/images and stylized with the real Hayao weights (../shared/models): timestamps,
// audio packets, rotation and metadata kept; flicker with and without stabilization; broken inputs. Tests
// that need ffmpeg, FFmpeg's libraries or ../shared skip with the reason.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "animegan/convert.h"
#include "animegan/video.h"
#include "engine/video/y4m.h"
#include "tests/test_support.h"

using namespace animegan;

namespace {

// --- helpers -----------------------------------------------------------------------------------------------

// Why whole-clip tests cannot run here, or "".
std::string clip_tests_unavailable(bool need_libraries) {
    if (testing::shared_dir().empty()) return "../shared is not available";
    static const bool have_cli = testing::run_command("ffmpeg -version >/dev/null 2>&1") == 0 &&
                                 testing::run_command("ffprobe -version >/dev/null 2>&1") == 0;
    if (!have_cli) return "the ffmpeg command line is not installed (apt-get install ffmpeg)";
    const std::string model = testing::shared_dir() + "/models/animeganv2_hayao_256x256_integer_quant.tflite";
    if (!std::filesystem::exists(model)) return model + " is not available";
    if (need_libraries && !video_files_available()) return "this build has no FFmpeg libraries";
    return "";
}

#define SKIP_UNLESS_CLIPS(need_libraries)                                   \
    do {                                                                    \
        const std::string reason_ = clip_tests_unavailable(need_libraries); \
        if (!reason_.empty()) {                                             \
            MESSAGE("skipped: " << reason_);                                \
            return;                                                         \
        }                                                                   \
    } while (0)

// The Hayao generator, converted once per run.
const std::string& hayao_path() {
    static const std::string path = [] {
        const std::string dir = testing::scratch_dir("video_model");
        convert_to_gguf(testing::shared_dir() + "/models/animeganv2_hayao_256x256_integer_quant.tflite",
                        dir + "/hayao.gguf", {});
        return dir + "/hayao.gguf";
    }();
    return path;
}

const Generator& hayao() {
    static const Generator generator = Generator::load(hayao_path(), 2);
    return generator;
}

std::string image(const std::string& name) {
    return testing::shared_dir() + "/images/" + name;
}

// Runs a shell command and returns its standard output.
std::string output_of(const std::string& command) {
    std::string out;
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe);
    char buffer[4096];
    for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
    pclose(pipe);
    return out;
}

void ffmpeg(const std::string& arguments) {
    const std::string command = "ffmpeg -v error -y " + arguments;
    REQUIRE_MESSAGE(testing::run_command(command) == 0, "failed: " << command);
}

// Presentation timestamps of the video frames shown, in order, one per line, as ffprobe prints them (from the
// packets, so nothing is decoded; packets an edit list discards, flag D, are not shown).
std::string frame_times(const std::string& path) {
    return output_of(
        "ffprobe -v error -select_streams v:0 -show_entries packet=pts_time,flags -of csv=p=0 '" + path +
        "' | grep -v '^$' | awk -F, '$2 !~ /D/ {print $1}' | sort -n");
}

size_t line_count(const std::string& text) {
    return size_t(std::count(text.begin(), text.end(), '\n'));
}

std::string audio_md5(const std::string& path) {
    return output_of("ffmpeg -v error -i '" + path + "' -map 0:a -c copy -f data - | md5sum");
}

std::string probe(const std::string& path, const std::string& entries) {
    return output_of("ffprobe -v error -show_entries " + entries + " -of default=nw=1 '" + path + "'");
}

struct CliResult {
    int status;
    std::string error;  // stderr
};

// environment: "NAME=value ..." set for the CLI alone.
CliResult run_cli(const std::string& arguments, const std::string& scratch,
                  const std::string& environment = "") {
    const std::string err = scratch + "/stderr.txt";
    const int status =
        testing::run_command(environment + " " + std::string(ANIMEGAN_BINARY_DIR) + "/examples/animegan2 " +
                             arguments + " 2>'" + err + "' >/dev/null");
    std::ifstream in(err);
    std::stringstream text;
    text << in.rdbuf();
    return {status, text.str()};
}

std::vector<Image> read_y4m(const std::string& path) {
    std::unique_ptr<video::FrameSource> source = video::open_y4m_source(path, {});
    std::vector<Image> frames;
    for (video::PipelineItem item; source->next(item); item = video::PipelineItem()) {
        frames.push_back(std::move(item.frame.image));
    }
    return frames;
}

double mean_abs_diff(const Image& a, const Image& b) {
    REQUIRE(a.pixels.size() == b.pixels.size());
    double sum = 0;
    for (size_t i = 0; i < a.pixels.size(); ++i) sum += std::abs(int(a.pixels[i]) - int(b.pixels[i]));
    return sum / double(a.pixels.size());
}

double psnr(const Image& a, const Image& b) {
    REQUIRE(a.pixels.size() == b.pixels.size());
    double sum = 0;
    for (size_t i = 0; i < a.pixels.size(); ++i) {
        const double d = int(a.pixels[i]) - int(b.pixels[i]);
        sum += d * d;
    }
    const double mse = sum / double(a.pixels.size());
    return mse == 0 ? 99.0 : 10 * std::log10(255.0 * 255.0 / mse);
}

// Mean absolute difference between consecutive frames, averaged over the clip.
double temporal_change(const std::vector<Image>& frames) {
    double sum = 0;
    for (size_t t = 1; t < frames.size(); ++t) sum += mean_abs_diff(frames[t], frames[t - 1]);
    return sum / double(frames.size() - 1);
}

Image flat_image(int width, int height, uint8_t r, uint8_t g, uint8_t b) {
    Image im;
    im.width = width, im.height = height;
    for (int i = 0; i < width * height; ++i) im.pixels.insert(im.pixels.end(), {r, g, b});
    return im;
}

}  // namespace

TEST_SUITE("video") {
// --- no outside material needed
// ----------------------------------------------------------------------------

TEST_CASE("y4m: colour conversions round-trip, broken streams are refused") {
    // RGB -> 4:4:4 -> RGB is lossless up to rounding; 4:2:0 keeps luma and loses only chroma detail.
    Image im;
    im.width = 7, im.height = 5;
    for (int i = 0; i < im.width * im.height * 3; ++i) im.pixels.push_back(uint8_t(40 + (i * 37) % 180));
    for (bool full : {false, true}) {
        std::vector<uint8_t> y(35), u(35), v(35);
        video::rgb_to_yuv(im.pixels.data(), 7, 5, 1, 1, full, y.data(), u.data(), v.data());
        Image back = im;
        video::yuv_to_rgb(y.data(), u.data(), v.data(), 7, 5, 1, 1, full, back.pixels.data());
        int worst = 0;
        for (size_t i = 0; i < im.pixels.size(); ++i)
            worst = std::max(worst, std::abs(im.pixels[i] - back.pixels[i]));
        CHECK_MESSAGE(worst <= (full ? 2 : 3), "4:4:4 round trip off by " << worst);
    }
    const Image grey = flat_image(5, 3, 90, 90, 90);
    std::vector<uint8_t> y(15), u(6), v(6);
    video::rgb_to_yuv(grey.pixels.data(), 5, 3, 2, 2, false, y.data(), u.data(), v.data());
    CHECK(int(u[0]) == 128);
    CHECK(int(v[5]) == 128);
    Image back = grey;
    video::yuv_to_rgb(y.data(), u.data(), v.data(), 5, 3, 2, 2, false, back.pixels.data());
    CHECK(mean_abs_diff(back, grey) < 1.0);

    const std::string dir = testing::scratch_dir("video_y4m");
    auto stream = [&](const std::string& name, const std::string& bytes) {
        testing::write_bytes(dir + "/" + name, std::vector<uint8_t>(bytes.begin(), bytes.end()));
        return dir + "/" + name;
    };
    const std::string frame(4 * 2 + 2 * 2 * 1, '\x80');  // 4x2 4:2:0: 8 luma + 2 x 2 chroma bytes
    const std::string header = "YUV4MPEG2 W4 H2 F30000:1001 Ip A1:1 C420jpeg\n";
    std::unique_ptr<video::FrameSource> ok =
        video::open_y4m_source(stream("ok.y4m", header + "FRAME\n" + frame), {});
    CHECK(ok->format().frame_rate.num == 30000);
    CHECK(ok->format().frame_rate.den == 1001);
    CHECK(read_y4m(dir + "/ok.y4m").size() == 1);
    testing::check_error_mentions([&] { video::open_y4m_source(stream("empty.y4m", ""), {}); }, "empty");
    testing::check_error_mentions([&] { video::open_y4m_source(stream("text.y4m", "hello\n"), {}); },
                                  "not a YUV4MPEG2 stream");
    testing::check_error_mentions(
        [&] { video::open_y4m_source(stream("p10.y4m", "YUV4MPEG2 W4 H2 F25:1 C420p10\n"), {}); }, "C420p10");
    testing::check_error_mentions(
        [&] { video::open_y4m_source(stream("huge.y4m", "YUV4MPEG2 W65536 H65536 F25:1\n"), {}); },
        "too large");
    testing::check_error_mentions(
        [&] { video::open_y4m_source(stream("nosize.y4m", "YUV4MPEG2 F25:1\n"), {}); }, "lacks W or H");
    testing::check_error_mentions(
        [&] { read_y4m(stream("cut.y4m", header + "FRAME\n" + frame + "FRAME\n" + frame.substr(0, 5))); },
        "ends inside frame 1");
}

TEST_CASE("stabilizer: averaged statistics stay within their bounds, pixels move at most max_pixel_shift") {
    StabilizerOptions o;
    o.statistics_history = 0.5f;
    o.max_mean_shift = 0.1f;
    o.max_log_variance_shift = 0.1f;
    o.pixel_history = 0.5f;
    o.max_pixel_shift = 3;
    TemporalStabilizer stab(o);
    const Image frame = flat_image(16, 16, 100, 120, 140);

    // First frame of a scene: the frame's own statistics and pixels, untouched.
    stab.begin_frame(frame);
    CHECK(stab.frame_started_scene());
    NormStatisticsHook hook = stab.statistics_hook();
    std::vector<double> m{1.0}, v{4.0};
    hook(0, m, v);
    CHECK(m[0] == 1.0);
    CHECK(v[0] == 4.0);
    Image out = flat_image(16, 16, 50, 50, 50);
    stab.end_frame(out);
    CHECK(out.pixels[0] == 50);

    // A small change: the average of the two frames, within the bounds.
    stab.begin_frame(frame);
    CHECK_FALSE(stab.frame_started_scene());
    m = {1.05}, v = {4.2};  // small change: no cut
    hook(0, m, v);
    CHECK(m[0] == doctest::Approx(1.025));
    CHECK(v[0] == doctest::Approx(4.1));
    m = {3.0}, v = {9.0};
    hook(1, m, v);  // the first time layer 1 is seen in this scene: its own statistics
    CHECK(m[0] == 3.0);
    out = flat_image(16, 16, 60, 52, 40);  // pulled toward 50 by half the gap, at most 3 levels
    stab.end_frame(out);
    CHECK(int(out.pixels[0]) == 57);
    CHECK(int(out.pixels[1]) == 51);
    CHECK(int(out.pixels[2]) == 43);

    // Layer 1's average (3 + 4) / 2 = 3.5 is further than 0.1 sd from 4: it is handed 4 - 0.1 * 3 = 3.7.
    stab.begin_frame(frame);
    m = {1.0}, v = {4.0};
    hook(0, m, v);
    m = {4.0}, v = {9.0};
    hook(1, m, v);
    CHECK(m[0] == doctest::Approx(3.7));
    CHECK(v[0] == doctest::Approx(9.0));
    // The variance jumps to 100: the average (9 + 100) / 2 is held within a factor e^0.1 of it.
    stab.begin_frame(frame);
    m = {1.0}, v = {4.0};
    hook(0, m, v);
    m = {4.0}, v = {100.0};
    hook(1, m, v);
    CHECK(v[0] == doctest::Approx(100.0 / std::exp(0.1)));

    // A different picture is a scene cut: everything restarts from that frame.
    stab.begin_frame(flat_image(16, 16, 250, 10, 10));
    CHECK(stab.frame_started_scene());
    CHECK(stab.scene_cuts() == 1);
    m = {7.0}, v = {1.0};
    hook(0, m, v);
    CHECK(m[0] == 7.0);
    // And so is a jump of the first layer's statistics in a frame the histograms let through.
    stab.begin_frame(flat_image(16, 16, 250, 10, 10));
    m = {20.0}, v = {1.0};
    hook(0, m, v);
    CHECK(stab.frame_started_scene());
    CHECK(stab.scene_cuts() == 2);
    CHECK(m[0] == 20.0);

    StabilizerOptions bad;
    bad.pixel_history = 1.0f;
    CHECK_THROWS_AS(TemporalStabilizer{bad}, Error);
}

// --- whole clips
// ---------------------------------------------------------------------------------------------

// The acceptance clip: 10 s of 1280x720 at 30000/1001 fps with AAC sound, through the command
// line. Frames are stylized at 128x72 (--max-side 128) to keep the suite short: what is checked is the
// timing and the sound, which do not depend on the size.
TEST_CASE("a 10 s 720p 29.97 fps clip keeps every frame timestamp and its audio packets") {
    SKIP_UNLESS_CLIPS(true);
    const std::string dir = testing::scratch_dir("video_done_when");
    const std::string in = dir + "/in.mp4", out = dir + "/out.mp4";
    // A slow pan over a photo (every frame differs) and a tone, encoded as a camera would.
    ffmpeg(
        "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=10 -loop 1 -framerate 30000/1001 -t "
        "10 -i '" +
        image("scene_station.jpg") +
        "' -filter_complex \"[1:v]scale=1400:788,crop=1280:720:x='t*10':y=0,format=yuv420p[v]\" -map "
        "'[v]' "
        "-map 0:a -c:v libx264 -preset ultrafast -c:a aac -shortest '" +
        in + "'");
    const CliResult r =
        run_cli("-m " + hayao_path() + " -i " + in + " -o " + out + " --max-side 128 -q", dir);
    REQUIRE_MESSAGE(r.status == 0, r.error);
    const std::string times_in = frame_times(in), times_out = frame_times(out);
    MESSAGE("input frames " << line_count(times_in) << ", output frames " << line_count(times_out));
    CHECK(line_count(times_in) == 300);
    CHECK(times_out == times_in);
    CHECK(probe(out, "stream=r_frame_rate").find("r_frame_rate=30000/1001") != std::string::npos);
    CHECK(probe(out, "stream=codec_name").find("codec_name=h264") != std::string::npos);
    const std::string md5_in = audio_md5(in), md5_out = audio_md5(out);
    MESSAGE("audio md5 in " << md5_in.substr(0, 32) << ", out " << md5_out.substr(0, 32));
    CHECK(md5_in.size() >= 32);
    CHECK(md5_out == md5_in);
}

TEST_CASE("y4m pipes compose with the ffmpeg command line") {
    SKIP_UNLESS_CLIPS(false);
    const std::string dir = testing::scratch_dir("video_pipe");
    const std::string cli = std::string(ANIMEGAN_BINARY_DIR) + "/examples/animegan2 -m " + hayao_path();
    const std::string command = "ffmpeg -v error -loop 1 -framerate 30000/1001 -i '" +
                                image("scene_car.jpg") +
                                "' -vf scale=96:54 -frames:v 5 -f yuv4mpegpipe - | " + cli +
                                " -i - -o - -q | ffmpeg -v error -y -i - '" + dir + "/out.mkv'";
    REQUIRE(testing::run_command("bash -o pipefail -c \"" + command + "\"") == 0);
    CHECK(line_count(frame_times(dir + "/out.mkv")) == 5);
    CHECK(probe(dir + "/out.mkv", "stream=width,height") == "width=96\nheight=54\n");
}

TEST_CASE("rotation, metadata, subtitles and a piece of the clip (--start, --duration)") {
    SKIP_UNLESS_CLIPS(true);
    const std::string dir = testing::scratch_dir("video_metadata");
    const std::string in = dir + "/in.mp4";
    std::ofstream(dir + "/subs.srt") << "1\n00:00:00,100 --> 00:00:01,000\nhello\n";
    // Rotation metadata is set on a stream copy (re-encoding drops it).
    ffmpeg("-f lavfi -i sine=duration=1 -loop 1 -framerate 25 -t 1 -i '" + image("portrait_01.jpg") +
           "' -i '" + dir +
           "/subs.srt' -map 1:v -map 0:a -map 2 -vf scale=80:96,format=yuv420p -c:v libx264 -preset " +
           "ultrafast -c:a aac -c:s mov_text '" + dir + "/plain.mp4'");
    ffmpeg("-i '" + dir + "/plain.mp4' -map 0 -c copy -metadata title='A title' -metadata:s:a language=fra " +
           "-metadata:s:v rotate=90 '" + in + "'");
    const std::string out = dir + "/out.mp4";
    VideoOptions options;
    const VideoReport report = stylize_video(hayao(), in, out, options);
    CHECK(report.frames == 25);
    CHECK(report.copied_streams.size() == 2);  // the audio and the subtitles
    const std::string tags = probe(out, "format_tags=title:stream_tags=language:stream_side_data=rotation");
    MESSAGE(tags);
    CHECK(tags.find("title=A title") != std::string::npos);
    CHECK(tags.find("language=fra") != std::string::npos);
    CHECK(tags.find("rotation=") != std::string::npos);
    CHECK(probe(out, "stream=codec_type").find("codec_type=subtitle") != std::string::npos);

    // Matroska (in this FFmpeg) records no rotation: the frames are turned upright instead, and said so.
    const VideoReport mkv = stylize_video(hayao(), in, dir + "/out.mkv", options);
    CHECK(mkv.width == 96);
    CHECK(mkv.height == 80);
    CHECK(!mkv.warnings.empty());

    // A piece: starts at 0, 0.4 s of frames at 25 fps, the audio cut alike.
    options.start_seconds = 0.2;
    options.duration_seconds = 0.4;
    const VideoReport piece = stylize_video(hayao(), in, dir + "/piece.mkv", options);
    CHECK(piece.frames == 10);
    const std::string times = frame_times(dir + "/piece.mkv");
    CHECK(times.substr(0, 5) == "0.000");
    CHECK(line_count(times) == 10);

    // A variable frame rate: every third frame dropped, the others keep their times, in Matroska and in MP4.
    const std::string vfr = dir + "/vfr.mkv";
    ffmpeg("-i '" + dir +
           "/plain.mp4' -vf \"select='not(eq(mod(n\\,3)\\,1))'\" -fps_mode vfr -c:v libx264 "
           "-preset ultrafast -an '" +
           vfr + "'");
    const std::string times_vfr = frame_times(vfr);
    CHECK(line_count(times_vfr) == 17);
    for (const char* name : {"/vfr_out.mkv", "/vfr_out.mp4"}) {
        stylize_video(hayao(), vfr, dir + name);
        CHECK_MESSAGE(frame_times(dir + name) == times_vfr, name);
    }
}

// Flicker: mean |frame t - frame t-1| of the output over that of the input. Clips are y4m, so the frames
// the test measures are exactly those the pipeline saw and made.
TEST_CASE("stabilization halves the flicker of a static shot and stays within 35 dB of each frame alone") {
    SKIP_UNLESS_CLIPS(false);
    const std::string dir = testing::scratch_dir("video_flicker");
    struct Clip {
        const char* name;
        std::string make;  // ffmpeg arguments
        double min_ratio;  // flicker without / with stabilization
    };
    const Clip clips[] = {
        // One photo with fresh sensor-like noise on every frame.
        {"static",
         "-loop 1 -i '" + image("scene_station.jpg") +
             "' -vf scale=256:144,format=yuv420p,noise=alls=12:allf=t -frames:v 12",
         2.0},
        // A slow zoom and pan: real change, so less to remove; it must not cost accuracy either.
        {"zoompan",
         "-loop 1 -i '" + image("scene_car.jpg") +
             "' -vf "
             "\"zoompan=z='1+0.004*on':x='iw/2-iw/zoom/2+on*2':y='ih/2-ih/zoom/2':d=1:s=256x144:fps=30,"
             "format=yuv420p\" -frames:v 12",
         1.3},
    };
    for (const Clip& clip : clips) {
        const std::string in = dir + "/" + clip.name + ".y4m";
        ffmpeg(clip.make + " '" + in + "'");
        VideoOptions plain, stable;
        plain.stabilize = false;
        stylize_video(hayao(), in, dir + "/alone.y4m", plain);
        const VideoReport report = stylize_video(hayao(), in, dir + "/stable.y4m", stable);
        CHECK(report.scene_cuts == 0);
        const std::vector<Image> input = read_y4m(in), alone = read_y4m(dir + "/alone.y4m"),
                                 stabilized = read_y4m(dir + "/stable.y4m");
        REQUIRE(alone.size() == input.size());
        REQUIRE(stabilized.size() == input.size());
        const double change = temporal_change(input);
        const double flicker_alone = temporal_change(alone) / change,
                     flicker_stable = temporal_change(stabilized) / change;
        double worst_psnr = 99;
        for (size_t t = 0; t < input.size(); ++t)
            worst_psnr = std::min(worst_psnr, psnr(stabilized[t], alone[t]));
        MESSAGE(std::string(clip.name)
                << ": flicker " << flicker_alone << " alone, " << flicker_stable << " stabilized ("
                << flicker_alone / flicker_stable << "x lower); worst PSNR vs alone " << worst_psnr << " dB");
        CHECK(flicker_alone / flicker_stable >= clip.min_ratio);
        CHECK(worst_psnr >= 35.0);
    }

    // A cut between two photos restarts the averages: the first frame after it is that frame alone.
    const std::string cut = dir + "/cut.y4m";
    ffmpeg("-loop 1 -t 0.24 -i '" + image("scene_station.jpg") + "' -loop 1 -t 0.24 -i '" +
           image("portrait_05.jpg") +
           "' -filter_complex \"[0]scale=128:72,setsar=1[a];[1]scale=128:72,setsar=1[b];[a][b]concat=n=2,"
           "format=yuv420p\" -r 25 '" +
           cut + "'");
    VideoOptions plain;
    plain.stabilize = false;
    stylize_video(hayao(), cut, dir + "/cut_alone.y4m", plain);
    const VideoReport report = stylize_video(hayao(), cut, dir + "/cut_stable.y4m");
    CHECK(report.scene_cuts == 1);
    const std::vector<Image> input = read_y4m(cut), alone = read_y4m(dir + "/cut_alone.y4m"),
                             stabilized = read_y4m(dir + "/cut_stable.y4m");
    REQUIRE(input.size() == 12);
    CHECK(psnr(stabilized[6], alone[6]) == 99.0);  // identical: nothing carried over from the first photo
}

// The face pass on video against the face pass run on each frame alone (detection every frame, no
// smoothing):
// flicker measured inside the face's box.
TEST_CASE("faces: tracked, smoothed face crops flicker less than the photo face pass on every frame") {
    SKIP_UNLESS_CLIPS(false);
    const std::string tflite = testing::shared_dir() + "/models/face_detection_front.tflite";
    if (!std::filesystem::exists(tflite)) {
        MESSAGE("skipped: " << tflite << " is absent");
        return;
    }
    const std::string dir = testing::scratch_dir("video_faces");
    convert_to_gguf(tflite, dir + "/front.gguf");
    const FaceDetector detector = FaceDetector::load(dir + "/front.gguf", 2);
    const std::string in = dir + "/face.y4m";
    ffmpeg("-loop 1 -i '" + image("portrait_05.jpg") +
           "' -vf \"scale=192:192,"
           "format=yuv420p,noise=alls=10:allf=t\" -frames:v 12 '" +
           in + "'");
    VideoOptions per_frame, tracked;
    for (VideoOptions* o : {&per_frame, &tracked}) {
        o->detector = &detector;
        o->face.face_size = 128;
    }
    per_frame.stabilize = false;
    per_frame.detect_every = 1;
    tracked.detect_every = 5;
    stylize_video(hayao(), in, dir + "/per_frame.y4m", per_frame);
    const VideoReport report = stylize_video(hayao(), in, dir + "/tracked.y4m", tracked);
    CHECK(report.face_tracks == 1);
    const std::vector<Image> input = read_y4m(in), alone = read_y4m(dir + "/per_frame.y4m"),
                             smooth = read_y4m(dir + "/tracked.y4m");
    REQUIRE(alone.size() == input.size());
    REQUIRE(smooth.size() == input.size());
    const std::vector<FaceDetection> faces = detector.detect(input[0]);
    REQUIRE(faces.size() == 1);
    const int x0 = std::max(0, int(faces[0].x0)), y0 = std::max(0, int(faces[0].y0));
    const int x1 = std::min(input[0].width, int(faces[0].x1)),
              y1 = std::min(input[0].height, int(faces[0].y1));
    auto region = [&](const Image& im) {
        Image r;
        r.width = x1 - x0, r.height = y1 - y0;
        for (int y = y0; y < y1; ++y) {
            r.pixels.insert(r.pixels.end(), im.pixels.begin() + (size_t(y) * im.width + x0) * 3,
                            im.pixels.begin() + (size_t(y) * im.width + x1) * 3);
        }
        return r;
    };
    std::vector<Image> face_in, face_alone, face_smooth;
    double worst_psnr = 99;
    for (size_t t = 0; t < input.size(); ++t) {
        face_in.push_back(region(input[t]));
        face_alone.push_back(region(alone[t]));
        face_smooth.push_back(region(smooth[t]));
        worst_psnr = std::min(worst_psnr, psnr(face_smooth.back(), face_alone.back()));
    }
    const double change = temporal_change(face_in);
    const double flicker_alone = temporal_change(face_alone) / change,
                 flicker_smooth = temporal_change(face_smooth) / change;
    MESSAGE("face region: flicker " << flicker_alone << " per frame, " << flicker_smooth << " tracked ("
                                    << flicker_alone / flicker_smooth << "x lower); worst PSNR vs per frame "
                                    << worst_psnr << " dB");
    CHECK(flicker_alone / flicker_smooth >= 2.0);
    CHECK(worst_psnr >= 35.0);
}

TEST_CASE("broken inputs: clear one-line errors, exit status 1, a truncated file keeps its frames") {
    SKIP_UNLESS_CLIPS(true);
    const std::string dir = testing::scratch_dir("video_bad_input");
    const std::string cli = "-m " + hayao_path() + " --max-side 64 -q ";
    ffmpeg("-f lavfi -i sine=duration=2 -loop 1 -framerate 25 -t 2 -i '" + image("scene_car.jpg") +
           "' -map 1:v -map 0:a -vf scale=160:90,format=yuv420p -c:v libx264 -preset ultrafast -c:a aac '" +
           dir + "/good.mkv'");
    ffmpeg("-i '" + dir + "/good.mkv' -c copy -movflags +faststart '" + dir + "/good.mp4'");
    ffmpeg("-i '" + dir + "/good.mkv' -vn -c copy '" + dir + "/audio.m4a'");
    auto cut_in_half = [&](const std::string& from, const std::string& to) {
        std::vector<uint8_t> bytes = testing::read_bytes(dir + "/" + from);
        bytes.resize(bytes.size() / 2);
        testing::write_bytes(dir + "/" + to, bytes);
    };
    cut_in_half("good.mkv", "truncated.mkv");
    cut_in_half("good.mp4", "truncated.mp4");
    {
        std::vector<uint8_t> bytes = testing::read_bytes(dir + "/good.mkv");
        const std::string id = "V_MPEG4/ISO/AVC";
        auto at = std::search(bytes.begin(), bytes.end(), id.begin(), id.end());
        REQUIRE(at != bytes.end());
        std::copy_n("V_MPEG4/ISO/ZZZ", id.size(), at);  // a codec id no decoder knows, same length
        testing::write_bytes(dir + "/unknown_codec.mkv", bytes);
    }
    testing::write_bytes(dir + "/empty.mp4", {});
    std::ofstream(dir + "/text.mp4") << "just some text, not a video\n";

    for (const char* name : {"truncated.mkv", "truncated.mp4"}) {
        const std::string out = dir + "/" + name + ".out.mkv";
        const CliResult r = run_cli(cli + "-i " + dir + "/" + name + " -o " + out, dir);
        MESSAGE(r.error);
        CHECK(r.status == 1);
        CHECK(line_count(r.error) == 1);
        CHECK(r.error.find("breaks off after frame") != std::string::npos);
        // The output is a finished file holding as many frames as the message says.
        const size_t at = r.error.find("holds the ");
        REQUIRE(at != std::string::npos);
        const long said = std::strtol(r.error.c_str() + at + 10, nullptr, 10);
        CHECK(said > 5);
        CHECK(said < 50);
        CHECK(long(line_count(frame_times(out))) == said);
    }
    const std::pair<const char*, const char*> refused[] = {
        {"audio.m4a", "no video stream"}, {"unknown_codec.mkv", "codec FFmpeg does not know"},
        {"empty.mp4", "empty file"},      {"text.mp4", "not a video file"},
        {"missing.mp4", "No such file"},
    };
    for (const auto& [name, needle] : refused) {
        const std::string out = dir + "/refused.mp4";
        const CliResult r = run_cli(cli + "-i " + dir + "/" + name + " -o " + out, dir);
        MESSAGE(r.error);
        CHECK(r.status == 1);
        CHECK(line_count(r.error) == 1);
        CHECK(r.error.find(needle) != std::string::npos);
        CHECK_FALSE(std::filesystem::exists(out));
    }
    const CliResult still = run_cli(cli + "-i " + image("portrait_01.jpg") + " -o " + dir + "/x.mp4", dir);
    CHECK(still.status == 1);
    CHECK(still.error.find("still image") != std::string::npos);
    testing::check_error_mentions([&] { stylize_video(hayao(), dir + "/audio.m4a", dir + "/x.mkv"); },
                                  "no video stream");

    // Not broken: an MP4 cut by stream copy starts mid-GOP, and its edit list hides frames that its index
    // still counts. Every shown frame comes out, and no truncation is claimed.
    ffmpeg("-ss 0.7 -i '" + dir + "/good.mp4' -c copy '" + dir + "/trimmed.mp4'");
    const CliResult trimmed = run_cli(cli + "-i " + dir + "/trimmed.mp4 -o " + dir + "/trimmed_out.mp4", dir);
    CHECK_MESSAGE(trimmed.status == 0, trimmed.error);
    CHECK(frame_times(dir + "/trimmed_out.mp4") == frame_times(dir + "/trimmed.mp4"));
}

TEST_CASE("FFmpeg's module: loaded by a video run, not by a photo run; missing, a clear error") {
    // The module is there and loads exactly when the build found FFmpeg (else the clip tests would skip).
    CHECK(video_files_available() == bool(ANIMEGAN_BUILT_WITH_FFMPEG));
    SKIP_UNLESS_CLIPS(true);
    const std::string dir = testing::scratch_dir("video_module");
    const std::string cli = "-m " + hayao_path() + " -q ";
    save_image(dir + "/photo.png", flat_image(64, 48, 200, 120, 40));
    ffmpeg("-f lavfi -i testsrc=size=64x48:rate=10 -t 0.5 -pix_fmt yuv420p '" + dir + "/clip.mkv'");
    ffmpeg("-i '" + dir + "/clip.mkv' -f yuv4mpegpipe '" + dir + "/clip.y4m'");

    // LD_DEBUG=files: the dynamic loader names every shared object it loads, at start and through dlopen.
    const CliResult photo =
        run_cli(cli + "-i " + dir + "/photo.png -o " + dir + "/out.png", dir, "LD_DEBUG=files");
    CHECK_MESSAGE(photo.status == 0, photo.error);
    CHECK(photo.error.find("libc.so") != std::string::npos);  // the trace is there
    CHECK(photo.error.find("libavformat") == std::string::npos);
    CHECK(photo.error.find("animegan_ffmpeg") == std::string::npos);
    const CliResult video =
        run_cli(cli + "-i " + dir + "/clip.mkv -o " + dir + "/out.mkv", dir, "LD_DEBUG=files");
    CHECK(video.status == 0);
    CHECK(video.error.find("libavformat") != std::string::npos);

    // A module that is missing, is not one or is of another version: one line, exit status 1, no output; y4m
    // works without it.
    const std::string fake = dir + "/not_a_module.so";
    std::ofstream(fake) << "not a shared object\n";
    const std::pair<std::string, const char*> broken[] = {
        {dir + "/missing/animegan_ffmpeg.so", "cannot open shared object file"},
        {fake, fake.c_str()},
        {ANIMEGAN_OTHER_VERSION_MODULE, "a module of another animegan version"},
    };
    for (const auto& [module, needle] : broken) {
        const std::string out = dir + "/refused.mkv";
        const CliResult r = run_cli(cli + "-i " + dir + "/clip.mkv -o " + out, dir,
                                    "ANIMEGAN_FFMPEG_MODULE='" + module + "'");
        MESSAGE(r.error);
        CHECK(r.status == 1);
        CHECK(line_count(r.error) == 1);
        CHECK(r.error.find("clip.mkv: video files need animegan_ffmpeg.so: " + module) != std::string::npos);
        CHECK(r.error.find(needle) != std::string::npos);
        CHECK(r.error.find("y4m pipes work without it") != std::string::npos);
        CHECK_FALSE(std::filesystem::exists(out));
    }
    const CliResult y4m = run_cli(cli + "-i " + dir + "/clip.y4m -o " + dir + "/out.y4m", dir,
                                  "ANIMEGAN_FFMPEG_MODULE='" + fake + "'");
    CHECK_MESSAGE(y4m.status == 0, y4m.error);
    CHECK(read_y4m(dir + "/out.y4m").size() == 5);
}

}  // TEST_SUITE("video")
