// The daemon's small HTTP server (health and metrics): Beast on the daemon's own io_context,
// one coroutine per connection, answers computed from in-memory state only, so it keeps
// answering while the database is locked.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "soundtrackd/util/log.hpp"

namespace soundtrackd::http {

struct server_reply {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// method and target (path and query) in, reply out.
using request_handler = std::function<server_reply(std::string_view method, std::string_view target)>;

class status_server {
 public:
  // `listen` is "host:port" or "[v6]:port" (port 0: any free port). With a non-empty
  // `token`, every request needs "Authorization: Bearer <token>". Binds at once: throws
  // std::runtime_error naming the address when it cannot.
  status_server(boost::asio::any_io_executor executor, const std::string& listen, std::string token,
                request_handler handler, logger_ptr log);
  ~status_server();

  std::string address() const;  // "http://127.0.0.1:8080"
  void start();
  void stop();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace soundtrackd::http
