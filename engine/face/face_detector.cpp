// animegan::FaceDetector: opens a converted detector and hands it to the network its general.architecture
// names (engine/models/registry.h); every call goes to that network.
#include "animegan/face.h"
#include "engine/models/blazeface/importers.h"
#include "engine/models/registry.h"

namespace animegan {

struct FaceDetector::Impl {
    std::unique_ptr<models::FaceDetectorNetwork> network;
};

FaceDetector::FaceDetector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FaceDetector::FaceDetector(FaceDetector&&) noexcept = default;
FaceDetector& FaceDetector::operator=(FaceDetector&&) noexcept = default;
FaceDetector::~FaceDetector() = default;

FaceDetector FaceDetector::load(const std::string& path, int threads) {
    weights::GgufFile file = weights::GgufFile::open(path);
    const std::string arch = file.get_string("general.architecture").value_or("");
    std::string detectors;
    for (const models::Network* n : models::networks()) {
        if (!n->load_face_detector) continue;
        if (arch == n->architecture)
            return FaceDetector(
                std::make_unique<Impl>(Impl{n->load_face_detector(std::move(file), threads)}));
        detectors += std::string(detectors.empty() ? "'" : ", '") + n->architecture + "'";
    }
    throw Error(path + ": general.architecture is '" + arch + "', expected " + detectors +
                " (a face detector converted by animegan-convert)");
}

const std::string& FaceDetector::name() const {
    return impl_->network->name();
}
int FaceDetector::threads() const {
    return impl_->network->threads();
}

std::vector<FaceDetection> FaceDetector::detect(const Image& image,
                                                const FaceDetectorOptions& options) const {
    return impl_->network->detect(image, options);
}

void FaceDetector::run_raw(const Tensor& input, std::vector<float>& regressors,
                           std::vector<float>& classificators) const {
    impl_->network->run_raw(input, regressors, classificators);
}

Tensor FaceDetector::letterbox(const Image& image) {
    return blazeface::letterbox(image);
}

}  // namespace animegan
