// Geometry of the face pass: the aligned face crop, warping the stylized crop back into the photo, and the
// rounded blend mask with its feathered edge.
#pragma once

#include <cstdint>
#include <vector>

#include "animegan/animegan.h"
#include "animegan/face.h"

namespace animegan::facewarp {

// x = a u + b v + tx, y = c u + d v + ty: maps pixel indices of one image to (fractional) pixel indices of
// another (pixel i's centre is at index i).
struct Affine {
    double a = 1, b = 0, c = 0, d = 1, tx = 0, ty = 0;
    void apply(double u, double v, double& x, double& y) const {
        x = a * u + b * v + tx;
        y = c * u + d * v + ty;
    }
    Affine inverse() const;
};

// The face's size the crop scales with: the side of a square of the box's area. That is the side of
// BlazeFace's square boxes; MTCNN's are taller than wide (forehead to chin), and their longer side would make
// crops, and their cost, a third larger for the same face.
double face_extent(const FaceDetection& face);

// Crop pixel -> photo pixel for a side x side crop around the face: rotated so the eyes are level, centred on
// the box, covering crop_scale times face_extent.
Affine face_crop_transform(const FaceDetection& face, float crop_scale, int side);

// The crop, sampled bilinearly; positions outside the photo mirror back into it.
Image warp_crop(const Image& photo, const Affine& crop_to_photo, int side);

// A rectangle of photo pixels; it may reach past the photo's edges.
struct Rect {
    int x0 = 0, y0 = 0, w = 0, h = 0;
};

// The rectangle around the blend mask of a side x side crop, with room for the feathered edge. Its sizes are
// rounded up to 16k + 1 so the multigrid levels nest exactly.
Rect mask_rect(const Affine& crop_to_photo, int side, float feather_sigma);

// The rectangle of an image as floats in 0..255, R, G, B interleaved like Image::pixels; positions outside
// the image take the nearest edge pixel.
std::vector<float> image_pixels(const Image& image, const Rect& r);

// The crop warped back into the rectangle, interleaved like image_pixels; positions the crop does not cover
// take `fallback`'s values (so they add no gradient of their own).
std::vector<float> warp_back(const Image& crop, const Affine& crop_to_photo, const Rect& r,
                             const std::vector<float>& fallback);

// 1 inside the rounded blend region (an ellipse in crop coordinates, taller than wide like a face, well
// inside the crop) and inside the photo, else 0; the rectangle's border is always 0.
std::vector<uint8_t> blend_mask(const Affine& crop_to_photo, int side, const Rect& r, int photo_w,
                                int photo_h);

// Standard deviation of the mask's feathering, in photo pixels, for a crop of `side` photo pixels.
float feather_sigma(int side);

// The mask blurred by about a Gaussian of the given standard deviation, in [0, 1]: three box blurs of
// matching variance in each direction (edges clamped), whose support ends within 3 sigma + 1.5 pixels.
std::vector<float> feather(const std::vector<uint8_t>& mask, int w, int h, float sigma);

}  // namespace animegan::facewarp
