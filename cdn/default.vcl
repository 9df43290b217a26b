vcl 4.1;
# Edgecart at the edge: Varnish 7 + xkey (docs/edge.md). The origin decides what is cacheable
# through Cache-Control (s-maxage, or Surrogate-Control) and names what a page shows in
# Surrogate-Key; this file obeys, keeps personal traffic out of the cache, and serves stale
# pages while the origin is slow, failing or down.
#
# `edgecart dev`, the tests and the benchmark render the two marked blocks (the app instances
# and the addresses allowed to purge) from their configuration (app/devstack/varnish.py);
# nothing else changes. As committed, the blocks describe two local instances on 8000 and 8001.

import directors;
import std;
import xkey;

# An instance is taken out of the rotation after two failed looks in three (about 2 s) and put
# back after two good ones.
probe health {
    .url = "/healthz";
    .interval = 1s;
    .timeout = 1s;
    .window = 3;
    .threshold = 2;
    .initial = 2;
}

# BEGIN backends
backend app1 {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
    .probe = health;
}
backend app2 {
    .host = "127.0.0.1";
    .port = "8001";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
    .probe = health;
}
sub vcl_init {
    new origin = directors.round_robin();
    origin.add_backend(app1);
    origin.add_backend(app2);
}
# END backends

# BEGIN purgers
acl purgers {
    "127.0.0.1";
    "::1";
}
# END purgers

sub vcl_recv {
    set req.backend_hint = origin.backend();
    # One id per request from the edge to the origin's logs; a cached page must not repeat
    # the id of the request that filled the cache.
    if (!req.http.X-Request-ID) {
        set req.http.X-Request-ID = "edge-" + req.xid;
    }
    unset req.http.X-Edge-Cacheable;
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (req.http.xkey-soft) {
            # Soft: objects turn stale but stay for grace, so the next visitor gets the old
            # page at once while a background fetch brings the new one (and a down origin
            # keeps the old page on show).
            set req.http.n-gone = xkey.softpurge(req.http.xkey-soft);
            return (synth(200, "Soft-invalidated " + req.http.n-gone + " objects"));
        }
        if (req.http.xkey) {
            set req.http.n-gone = xkey.purge(req.http.xkey);
            return (synth(200, "Invalidated " + req.http.n-gone + " objects"));
        }
        return (purge);
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # Personal and write paths never touch the cache and keep their cookies.
    if (req.url ~ "^/(fragments|cart|checkout|account|admin|orders|oauth|payments|api/v1/(cart|orders|checkout|me))"
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
    # A boosted link or a history restore wants the whole page, which the app answers exactly
    # as it answers a plain request (app/web/htmx.py): share one cached copy with plain loads.
    if (req.http.HX-Boosted == "true" || req.http.HX-History-Restore-Request == "true") {
        unset req.http.HX-Request;
        unset req.http.HX-Boosted;
        unset req.http.HX-History-Restore-Request;
        unset req.http.HX-Current-URL;
    }
    unset req.http.Authorization;
    # Three kinds of client at most, so Vary: Accept-Encoding keeps at most three copies. Run
    # varnishd with -p http_gzip_support=off: Varnish's own gzip handling would rewrite this to
    # "gzip" and hide br from the static server's precompressed files.
    if (req.http.Accept-Encoding ~ "\bbr\b" && req.http.Accept-Encoding ~ "\bgzip\b") {
        set req.http.Accept-Encoding = "br, gzip";
    } elsif (req.http.Accept-Encoding ~ "\bgzip\b") {
        set req.http.Accept-Encoding = "gzip";
    } else {
        unset req.http.Accept-Encoding;
    }
    # stale-while-revalidate: a page up to a minute past its time is served at once while a
    # background fetch refreshes it. When every instance is sick, grace (a day) covers
    # stale-if-error; a restart after a failed fetch does the same (vcl_synth).
    if (req.http.X-Edge-Stale-If-Error) {
        set req.grace = 24h;
    } elsif (std.healthy(req.backend_hint)) {
        set req.grace = 60s;
    }
    set req.http.X-Edge-Cacheable = "1";
    return (hash);
}

sub vcl_hash {
    # Pages and their htmx fragments share URLs and differ by HX-Request (Vary is honoured too,
    # but hashing on it keeps the two variants apart even behind a Vary-stripping CDN).
    if (req.http.HX-Request) {
        hash_data("hx");
    }
}

sub vcl_backend_fetch {
    unset bereq.http.X-Edge-Cacheable;
    unset bereq.http.X-Edge-Stale-If-Error;
}

sub vcl_backend_response {
    # A failing origin: keep what is cached (vcl_synth restarts to serve it stale).
    if (beresp.status >= 500 && !bereq.uncacheable) {
        return (abandon);
    }
    if (bereq.uncacheable) {
        return (deliver);
    }
    if (beresp.http.Surrogate-Control ~ "max-age=\d+") {
        set beresp.ttl = std.duration(
            regsub(beresp.http.Surrogate-Control, ".*max-age=(\d+).*", "\1s"), 0s);
        unset beresp.http.Surrogate-Control;
    } elsif (beresp.http.Cache-Control ~ "s-maxage=\d+"
             || (beresp.http.Cache-Control ~ "\bpublic\b" && beresp.http.Cache-Control ~ "\bimmutable\b")) {
        # Varnish's own TTL (s-maxage, else max-age) stands.
    } else {
        return (pass(120s));
    }
    # Never store what is private or sets a cookie: it is someone's, not everyone's.
    if (beresp.http.Cache-Control ~ "\b(private|no-store|no-cache)\b"
        || beresp.http.Set-Cookie
        || bereq.http.Cookie ~ "edgecart_session=") {
        return (pass(120s));
    }
    if (beresp.http.Surrogate-Key) {
        set beresp.http.xkey = beresp.http.Surrogate-Key;
    }
    # Stale pages are kept a day past their time for stale-if-error (vcl_recv decides, per
    # request, how much of that grace it accepts).
    set beresp.grace = 24h;
    return (deliver);
}

sub vcl_backend_error {
    # Nothing to deliver from the origin: let the client side decide (stale, or a calm page).
    return (abandon);
}

sub vcl_synth {
    if (resp.status == 503 && req.http.X-Edge-Cacheable && req.restarts == 0) {
        # The fetch failed: look again, accepting a stale copy of up to a day (stale-if-error).
        set req.http.X-Edge-Stale-If-Error = "1";
        return (restart);
    }
    if (resp.status == 503) {
        # An unreachable origin with nothing stale to serve: a calm page, not Guru Meditation.
        set resp.http.Content-Type = "text/html; charset=utf-8";
        set resp.http.Retry-After = "5";
        set resp.http.Cache-Control = "no-store";
        synthetic({"<!doctype html><html lang="en"><meta charset="utf-8"><title>Back soon</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<body><h1>The shop is catching its breath</h1><p>Please try again in a moment.</p></body></html>"});
        return (deliver);
    }
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
    unset resp.http.Surrogate-Control;
    unset resp.http.Cache-Tag;
    unset resp.http.Via;
    unset resp.http.X-Varnish;
}
