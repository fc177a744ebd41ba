// Poisson image editing (Pérez, Gangnet and Blake 2003) for the face pass: seamless cloning of an RGB region,
// solved by multigrid-preconditioned conjugate gradients on the region's bounding box, the three channels
// together.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace animegan::poisson {

// Values per grid point in the solver's inputs and outputs: R, G, B interleaved (channel c of point p at 3p +
// c).
constexpr int kChannels = 3;

// Solves the 5-point Poisson equation  sum of the 4 neighbours of p minus 4 e_p = rhs_p  at every grid point
// p with inside[p] != 0, where e = 0 at every other point (Dirichlet), on a w x h grid whose border rows and
// columns must be outside, for kChannels right-hand sides at once. The region may be any shape. Built once
// per region; the buffers are reused by every solve.
class Multigrid {
  public:
    Multigrid(const std::vector<uint8_t>& inside, int w, int h);

    // Full multigrid for a start (the right-hand side restricted to every level, solved on the coarsest, each
    // solution interpolated up and improved by one V-cycle), then conjugate gradients preconditioned by a
    // symmetric V-cycle (red-black Gauss-Seidel smoothing, full-weighting restriction, bilinear prolongation)
    // until one iteration changes no value by more than tol, or the next is expected not to (extrapolating
    // the last two iterations' changes geometrically), or max_iterations. rhs and e hold kChannels values per
    // point of the w x h grid. Returns the iterations run.
    int solve(const std::vector<float>& rhs, std::vector<float>& e, float tol, int max_iterations = 60);

  private:
    // One row's inside points x0 <= x < x1: the loops visit only these, so the region's surroundings cost
    // nothing.
    struct Run {
        int y, x0, x1;
    };
    struct Level {
        int w = 0, h = 0;
        std::vector<uint8_t> inside;
        std::vector<Run> runs;
        std::vector<size_t> band;    // unknowns within a few cells of a fixed point
        std::vector<float> e, b, r;  // 4 values per point: the channels padded to one SIMD vector
    };
    void v_cycle(size_t level);
    int w_, h_;    // the caller's grid
    int x0_, y0_;  // where the fine level's grid starts in it
    std::vector<Level> levels_;
    std::vector<float> x_, direction_;  // conjugate gradients' solution and search direction
};

// Seamless cloning on a w x h grid of RGB points (kChannels interleaved floats each): f = scene outside the
// mask and, inside it, f has the source's Laplacian (the source's gradients are the guidance field, the scene
// the boundary condition). The mask's border rows and columns must be 0. tol bounds the solver's last
// iteration's change (same units as the data).
std::vector<float> seamless_clone(const std::vector<float>& scene, const std::vector<float>& source,
                                  const std::vector<uint8_t>& mask, int w, int h, Multigrid& solver,
                                  float tol);

}  // namespace animegan::poisson
