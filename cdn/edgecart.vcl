vcl 4.1;
# Edgecart at the edge: Varnish 7 + xkey. The origin decides what is cacheable through
# Cache-Control (s-maxage) and names what a page shows in Surrogate-Key; this file only obeys.
# `edgecart dev` and the tests rewrite the backend port below; nothing else changes.

import std;
import xkey;

backend origin {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
    .probe = {
        .url = "/healthz";
        .interval = 5s;
        .timeout = 1s;
        .window = 3;
        .threshold = 2;
    }
}

acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    # One id per request from the edge to the origin's logs; a cached page must not repeat
    # the id of the request that filled the cache.
    if (!req.http.X-Request-ID) {
        set req.http.X-Request-ID = "edge-" + req.xid;
    }
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (req.http.xkey) {
            set req.http.n-gone = xkey.purge(req.http.xkey);
            return (synth(200, "Invalidated " + req.http.n-gone + " objects"));
        }
        if (req.http.xkey-soft) {
            set req.http.n-gone = xkey.softpurge(req.http.xkey-soft);
            return (synth(200, "Soft-invalidated " + req.http.n-gone + " objects"));
        }
        return (purge);
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # Personal and write paths never touch the cache and keep their cookies.
    if (req.url ~ "^/(fragments|cart|checkout|account|admin|orders|oauth|api/v1/(cart|orders|checkout|me))"
        || req.url ~ "^/(healthz|readyz|metrics)") {
        return (pass);
    }
    # An API request with an access token goes to the app, which checks the token and counts
    # it against the client's rate limit (docs/oauth.md); without one it is served from cache.
    if (req.url ~ "^/api/" && req.http.Authorization ~ "(?i)^bearer ") {
        return (pass);
    }
    # Everything else is the same for every visitor: cookies must not split the cache.
    unset req.http.Cookie;
    unset req.http.Authorization;
    return (hash);
}

sub vcl_hash {
    # Pages and their htmx fragments share URLs and differ by HX-Request (Vary is honoured too,
    # but hashing on it keeps the two variants apart even behind a Vary-stripping CDN).
    if (req.http.HX-Request) {
        hash_data("hx");
    }
}

sub vcl_backend_response {
    if (beresp.http.Cache-Control !~ "s-maxage" || beresp.http.Cache-Control ~ "private|no-store") {
        set beresp.uncacheable = true;
        set beresp.ttl = 120s;
        return (deliver);
    }
    # A cacheable response must never carry a cookie to the next visitor.
    unset beresp.http.Set-Cookie;
    if (beresp.http.Surrogate-Key) {
        set beresp.http.xkey = beresp.http.Surrogate-Key;
    }
    # Serve stale pages for a day when the origin is down (stale-if-error).
    set beresp.grace = 24h;
    if (beresp.status >= 500) {
        set beresp.ttl = 0s;
        set beresp.uncacheable = true;
    }
    return (deliver);
}

sub vcl_backend_error {
    # An unreachable origin with nothing stale to serve: a calm page rather than Guru Meditation.
    set beresp.http.Content-Type = "text/html; charset=utf-8";
    set beresp.http.Retry-After = "5";
    synthetic({"<!doctype html><html lang="en"><meta charset="utf-8"><title>Back soon</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<body><h1>The shop is catching its breath</h1><p>Please try again in a moment.</p></body></html>"});
    return (deliver);
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    set resp.http.X-Request-ID = req.http.X-Request-ID;
    # Surrogate keys are for the edge; browsers need not see the catalog's inventory of ids.
    unset resp.http.xkey;
    unset resp.http.Surrogate-Key;
    unset resp.http.Cache-Tag;
    unset resp.http.Via;
    unset resp.http.X-Varnish;
}
