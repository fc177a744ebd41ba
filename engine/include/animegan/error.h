// The one exception type the library throws. Every failure a user can cause (a missing or corrupt file, a
// bad image, a wrong size) ends up here with a message that names the file or value at fault.
#pragma once

#include <stdexcept>
#include <string>

namespace animegan {

class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace animegan
