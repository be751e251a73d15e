// The web dashboard's routes: the embedded page at "/" and its files under "/ui/", open to
// everyone (they hold no data; the page asks for the token when the JSON API answers 401).
#pragma once

#include "soundtrackd/http/status_server.hpp"

namespace soundtrackd::http {

// The reply for GET `path` ("/" or "/ui/<file>"): the embedded file with a strict
// Content-Security-Policy and an ETag (304 when `if_none_match` names it), or 404.
server_reply dashboard_reply(std::string_view path, std::string_view if_none_match);

void add_dashboard_routes(router& routes);

}  // namespace soundtrackd::http
