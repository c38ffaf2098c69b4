// How a request and a reply cross from a caller to its worker and back: length-prefixed
// fields in a byte string sized to its content, so nothing is ever cut to fit a slot.
#pragma once

#include <string>

#include "worker/jobs.hpp"

namespace claudable {

std::string encode_request(const WorkerRequest& request);
WorkerRequest decode_request(const std::string& bytes);

std::string encode_reply(const WorkerReply& reply);
WorkerReply decode_reply(const std::string& bytes);

}  // namespace claudable
