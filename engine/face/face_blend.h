// Blending one stylized face crop back into the stylized photo: seamless cloning inside the rounded face
// mask, faded out over the mask's feathered edge, and a measure of how visible the seam is.
#pragma once

#include "animegan/animegan.h"
#include "engine/face/warp.h"

namespace animegan::faceblend {

// Blends the stylized crop (whose pixels map to the photo by crop_to_photo) into `result`: seamless cloning
// of the face's gradients inside the rounded mask with the current result as the boundary, then the
// correction faded out over the mask's feathered edge. Only pixels inside the mask change. Returns the seam
// metric: the mean luma gradient magnitude on the blend boundary (alpha near 0.5) over the mean of the bands
// just inside (alpha near 0.9) and just outside (near 0.1); 1 when a band is empty (a face too small to
// measure) or the surroundings are flat.
double blend_face(Image& result, const Image& styled, const facewarp::Affine& crop_to_photo);

}  // namespace animegan::faceblend
