// Images decoded from and encoded to memory (the web server's path: nothing touches the disk).
#include <doctest/doctest.h>

#include <cstdlib>

#include "animegan/animegan.h"
#include "engine/image/image_check.h"
#include "tests/test_support.h"

using namespace animegan;

TEST_SUITE("engine") {
TEST_CASE("images encode to and decode from memory") {
    Image img;
    img.width = 7;
    img.height = 4;
    for (int i = 0; i < 7 * 4 * 3; ++i) img.pixels.push_back(uint8_t(i * 3));

    const std::vector<uint8_t> png = encode_image(img, "png");
    REQUIRE(png.size() > 8);
    CHECK(png[0] == 0x89);
    CHECK(png[1] == 'P');
    const Image back = decode_image(png.data(), png.size(), "upload");
    CHECK(back.width == 7);
    CHECK(back.height == 4);
    CHECK(back.pixels == img.pixels);  // PNG is lossless

    const std::vector<uint8_t> jpeg = encode_image(img, "jpeg", 100);
    REQUIRE(jpeg.size() > 3);
    CHECK(jpeg[0] == 0xFF);
    CHECK(jpeg[1] == 0xD8);
    const Image lossy = decode_image(jpeg.data(), jpeg.size(), "upload");
    REQUIRE(lossy.pixels.size() == img.pixels.size());
    int worst = 0;
    for (size_t i = 0; i < img.pixels.size(); ++i)
        worst = std::max(worst, std::abs(int(lossy.pixels[i]) - int(img.pixels[i])));
    CHECK(worst <= 24);  // quality 100 on a 7x4 gradient with 4:2:0 chroma: a few levels off at most

    // A lower quality gives a smaller file on a picture with detail.
    Image noisy;
    noisy.width = noisy.height = 64;
    for (int i = 0; i < 64 * 64 * 3; ++i) noisy.pixels.push_back(uint8_t((i * 7919) % 251));
    CHECK(encode_image(noisy, "jpeg", 30).size() < encode_image(noisy, "jpeg", 95).size());

    CHECK_THROWS_AS(encode_image(img, "gif"), Error);
    CHECK_THROWS_AS(encode_image(img, "jpeg", 0), Error);
    CHECK_THROWS_AS(encode_image(Image{}, "png"), Error);
}

TEST_CASE("decode_image names its source and refuses bad bytes") {
    testing::check_error_mentions([] { decode_image(nullptr, 0, "upload.jpg"); }, "upload.jpg");
    const uint8_t text[] = "this is not an image at all";
    testing::check_error_mentions([&] { decode_image(text, sizeof text, "upload.jpg"); }, "upload.jpg");

    Image img;
    img.width = img.height = 16;
    img.pixels.assign(16 * 16 * 3, 90);
    std::vector<uint8_t> png = encode_image(img, "png");
    png.resize(png.size() / 2);  // truncated upload
    testing::check_error_mentions([&] { decode_image(png.data(), png.size(), "half.png"); }, "half.png");

    // A PNG header claiming 12000 x 12000 pixels (144 MP) is refused before anything is allocated.
    std::vector<uint8_t> huge = encode_image(img, "png");
    const uint32_t side = 12000;
    for (int k = 0; k < 2; ++k) {
        uint8_t* p = &huge[16 + 4 * k];  // IHDR width, height (big-endian)
        p[0] = uint8_t(side >> 24), p[1] = uint8_t(side >> 16), p[2] = uint8_t(side >> 8),
        p[3] = uint8_t(side);
    }
    const uint32_t crc = image::png_crc32(&huge[12], 4 + 13);  // IHDR's CRC made right again
    for (int k = 0; k < 4; ++k) huge[29 + k] = uint8_t(crc >> (24 - 8 * k));
    testing::check_error_mentions([&] { decode_image(huge.data(), huge.size(), "huge.png"); }, "megapixels");
}

}  // TEST_SUITE("engine")
