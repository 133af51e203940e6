-- POST /login with the right password, replaying one cookie and its CSRF token:
-- wrk ... -- "<cookie>" "<form body>"
function init(args)
  wrk.method = "POST"
  wrk.headers["Cookie"] = args[1]
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.body = args[2]
end
