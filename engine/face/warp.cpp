// Face crop geometry: one affine map per face (crop pixel -> photo pixel), used forwards to cut the aligned
// crop and backwards to paste the stylized crop, so the two are exact inverses of each other.
#include "engine/face/warp.h"

#include <algorithm>
#include <cmath>

namespace animegan::facewarp {
namespace {

// Blend ellipse radii as fractions of the crop side. With the default crop of 1.8 box sides they are 0.65 and
// 0.76 box sides: cheeks, forehead and chin, not the background; they stay inside the crop with room for the
// feathering (3 sigma = 0.06 of the side), so the warped-back face covers every pixel the blend touches.
constexpr double kEllipseRx = 0.36, kEllipseRy = 0.42;
constexpr float kFeatherFraction = 0.02f;

// Index i reflected into [0, n) (period 2n, edge pixels repeated once), for sampling outside the photo.
int mirror(int i, int n) {
    const int period = 2 * n;
    int m = i % period;
    if (m < 0) m += period;
    return m < n ? m : period - 1 - m;
}

// Bilinear sample of channel c at fractional pixel (x, y); coordinates already inside the image.
float sample(const Image& image, double x, double y, int c) {
    const int x0 = int(std::floor(x)), y0 = int(std::floor(y));
    const float fx = float(x - x0), fy = float(y - y0);
    auto at = [&](int xi, int yi) {
        return float(
            image.pixels[(size_t(mirror(yi, image.height)) * image.width + mirror(xi, image.width)) * 3 + c]);
    };
    const float top = at(x0, y0) + fx * (at(x0 + 1, y0) - at(x0, y0));
    const float bottom = at(x0, y0 + 1) + fx * (at(x0 + 1, y0 + 1) - at(x0, y0 + 1));
    return top + fy * (bottom - top);
}

int round_up_to_nested(int n) {
    return (n - 1 + 15) / 16 * 16 + 1;
}

}  // namespace

Affine Affine::inverse() const {
    const double det = a * d - b * c;
    Affine inv;
    inv.a = d / det, inv.b = -b / det, inv.c = -c / det, inv.d = a / det;
    inv.tx = -(inv.a * tx + inv.b * ty);
    inv.ty = -(inv.c * tx + inv.d * ty);
    return inv;
}

double face_extent(const FaceDetection& face) {
    return std::sqrt(std::max(double(face.x1 - face.x0), 0.0) * std::max(double(face.y1 - face.y0), 0.0));
}

Affine face_crop_transform(const FaceDetection& face, float crop_scale, int side) {
    // The box is in continuous coordinates (pixel i spans [i, i + 1]); the map works on pixel centres.
    const double cx = 0.5 * (face.x0 + face.x1) - 0.5, cy = 0.5 * (face.y0 + face.y1) - 0.5;
    const double ex = face.keypoints[kLeftEye][0] - face.keypoints[kRightEye][0];
    const double ey = face.keypoints[kLeftEye][1] - face.keypoints[kRightEye][1];
    const double angle = std::atan2(ey, ex);  // the person's left eye is on the photo's right when upright
    const double extent = crop_scale * face_extent(face);
    const double k = extent / side, co = k * std::cos(angle), si = k * std::sin(angle);
    const double mid = 0.5 * (side - 1);
    Affine t;
    t.a = co, t.b = -si, t.c = si, t.d = co;
    t.tx = cx - (co * mid - si * mid);
    t.ty = cy - (si * mid + co * mid);
    return t;
}

Image warp_crop(const Image& photo, const Affine& crop_to_photo, int side) {
    Image crop;
    crop.width = crop.height = side;
    crop.pixels.resize(size_t(side) * side * 3);
    for (int v = 0; v < side; ++v) {
        for (int u = 0; u < side; ++u) {
            double x, y;
            crop_to_photo.apply(u, v, x, y);
            for (int c = 0; c < 3; ++c) {
                crop.pixels[(size_t(v) * side + u) * 3 + c] =
                    uint8_t(std::lround(std::clamp(sample(photo, x, y, c), 0.f, 255.f)));
            }
        }
    }
    return crop;
}

Rect mask_rect(const Affine& t, int side, float feather_sigma) {
    const double rx = kEllipseRx * side, ry = kEllipseRy * side, mid = 0.5 * (side - 1);
    const double hx = std::hypot(t.a * rx, t.b * ry), hy = std::hypot(t.c * rx, t.d * ry);
    double cx, cy;
    t.apply(mid, mid, cx, cy);
    const int margin = int(std::ceil(3 * feather_sigma)) + 2;
    Rect r;
    r.w = round_up_to_nested(2 * (int(std::ceil(hx)) + margin) + 1);
    r.h = round_up_to_nested(2 * (int(std::ceil(hy)) + margin) + 1);
    r.x0 = int(std::lround(cx)) - r.w / 2;
    r.y0 = int(std::lround(cy)) - r.h / 2;
    return r;
}

std::vector<float> image_pixels(const Image& image, const Rect& r) {
    std::vector<float> out(size_t(r.w) * r.h * 3);
    for (int j = 0; j < r.h; ++j) {
        const int y = std::clamp(r.y0 + j, 0, image.height - 1);
        for (int i = 0; i < r.w; ++i) {
            const int x = std::clamp(r.x0 + i, 0, image.width - 1);
            std::copy_n(&image.pixels[(size_t(y) * image.width + x) * 3], 3, &out[(size_t(j) * r.w + i) * 3]);
        }
    }
    return out;
}

std::vector<float> warp_back(const Image& crop, const Affine& crop_to_photo, const Rect& r,
                             const std::vector<float>& fallback) {
    const Affine to_crop = crop_to_photo.inverse();
    std::vector<float> out = fallback;
    for (int j = 0; j < r.h; ++j) {
        for (int i = 0; i < r.w; ++i) {
            double u, v;
            to_crop.apply(r.x0 + i, r.y0 + j, u, v);
            if (u < 0 || v < 0 || u > crop.width - 1 || v > crop.height - 1) continue;
            // Inside the crop all four taps are too (the last column or row takes weight 1 on the one before
            // it), so no mirroring, and one set of weights serves the three channels.
            const int u0 = std::min(int(u), crop.width - 2), v0 = std::min(int(v), crop.height - 2);
            const float fu = float(u - u0), fv = float(v - v0);
            const uint8_t* top = &crop.pixels[(size_t(v0) * crop.width + u0) * 3];
            const uint8_t* bottom = top + size_t(crop.width) * 3;
            float* o = &out[(size_t(j) * r.w + i) * 3];
            for (int c = 0; c < 3; ++c) {
                const float t = top[c] + fu * (top[c + 3] - top[c]),
                            b = bottom[c] + fu * (bottom[c + 3] - bottom[c]);
                o[c] = t + fv * (b - t);
            }
        }
    }
    return out;
}

std::vector<uint8_t> blend_mask(const Affine& crop_to_photo, int side, const Rect& r, int photo_w,
                                int photo_h) {
    const Affine to_crop = crop_to_photo.inverse();
    const double rx = kEllipseRx * side, ry = kEllipseRy * side, mid = 0.5 * (side - 1);
    std::vector<uint8_t> mask(size_t(r.w) * r.h, 0);
    for (int j = 1; j < r.h - 1; ++j) {
        const int y = r.y0 + j;
        if (y < 0 || y >= photo_h) continue;
        for (int i = 1; i < r.w - 1; ++i) {
            const int x = r.x0 + i;
            if (x < 0 || x >= photo_w) continue;
            double u, v;
            to_crop.apply(x, y, u, v);
            const double du = (u - mid) / rx, dv = (v - mid) / ry;
            mask[size_t(j) * r.w + i] = du * du + dv * dv <= 1.0;
        }
    }
    return mask;
}

float feather_sigma(int side) {
    return std::max(0.7f, kFeatherFraction * side);
}

std::vector<float> feather(const std::vector<uint8_t>& mask, int w, int h, float sigma) {
    // Box widths for three passes whose variances ((width^2 - 1) / 12 each) sum to sigma^2 (Wells 1986): the
    // largest odd width below the ideal one for `small` passes, two more for the rest. Each pass costs the
    // same for any width (a running sum), where the Gaussian's cost grew with sigma.
    constexpr int kPasses = 3;
    const double ideal = std::sqrt(12.0 * sigma * sigma / kPasses + 1);
    int lower = int(std::floor(ideal));
    if (lower % 2 == 0) --lower;
    const double v = 12.0 * sigma * sigma;
    const int small =
        std::clamp(int(std::lround((v - kPasses * lower * lower - 4.0 * kPasses * lower - 3.0 * kPasses) /
                                   (-4.0 * lower - 4))),
                   0, kPasses);
    int radius[kPasses];
    for (int k = 0; k < kPasses; ++k) radius[k] = (k < small ? lower : lower + 2) / 2;

    // The running sums stay whole numbers below 2^53 (for widths up to ~400), so doubles add and subtract
    // them exactly: no drift along a row, and the rounding is one division at the end.
    std::vector<double> a(mask.begin(), mask.end()), b(mask.size());
    double scale = 1;
    for (int k = 0; k < kPasses; ++k) {  // rows
        const int rr = radius[k];
        for (int y = 0; y < h; ++y) {
            const double* in = &a[size_t(y) * w];
            double* out = &b[size_t(y) * w];
            double sum = 0;
            for (int x = -rr; x <= rr; ++x) sum += in[std::clamp(x, 0, w - 1)];
            for (int x = 0; x < w; ++x) {
                out[x] = sum;
                sum += in[std::min(x + rr + 1, w - 1)] - in[std::max(x - rr, 0)];
            }
        }
        a.swap(b);
        scale *= 2 * rr + 1;
    }
    for (int k = 0; k < kPasses; ++k) {  // columns, a whole row at a time
        const int rr = radius[k];
        std::vector<double> sum(w, 0.0);
        auto row = [&](int y) { return &a[size_t(std::clamp(y, 0, h - 1)) * w]; };
        for (int y = -rr; y <= rr; ++y) {
            const double* in = row(y);
            for (int x = 0; x < w; ++x) sum[x] += in[x];
        }
        for (int y = 0; y < h; ++y) {
            std::copy(sum.begin(), sum.end(), &b[size_t(y) * w]);
            const double *enter = row(y + rr + 1), *leave = row(y - rr);
            for (int x = 0; x < w; ++x) sum[x] += enter[x] - leave[x];
        }
        a.swap(b);
        scale *= 2 * rr + 1;
    }
    std::vector<float> out(mask.size());
    for (size_t i = 0; i < out.size(); ++i) out[i] = float(a[i] / scale);
    return out;
}

}  // namespace animegan::facewarp
