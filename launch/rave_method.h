// RAVE's training method (launch/method.h): the residual vector as its guidance, no phases of its own.
#pragma once

#include <memory>

#include "launch/method.h"

namespace rave::launch {

std::unique_ptr<Method> make_rave_method(const MethodParts& parts);

}  // namespace rave::launch
