#include "reciprocity/core/error.hpp"

namespace reciprocity {

int exit_status_of(const Error& e) {
  if (dynamic_cast<const ConfigError*>(&e)) return 2;
  if (dynamic_cast<const DataError*>(&e)) return 3;
  if (dynamic_cast<const IoError*>(&e)) return 4;
  if (dynamic_cast<const MpiError*>(&e)) return 5;
  if (dynamic_cast<const NumericError*>(&e)) return 6;
  if (dynamic_cast<const StopRequested*>(&e)) return 7;
  if (dynamic_cast<const LockError*>(&e)) return 8;
  return 1;
}

void throw_with_status(int status, const std::string& message) {
  switch (status) {
    case 2: throw ConfigError(message);
    case 3: throw DataError(message);
    case 4: throw IoError(message);
    case 5: throw MpiError(message);
    case 6: throw NumericError(message);
    case 7: throw StopRequested(message);
    case 8: throw LockError(message);
    default: throw Error(message);
  }
}

}  // namespace reciprocity
