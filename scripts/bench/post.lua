-- POST the same form to the URL, with an Authorization header: wrk ... -- "<authorization>" "<body>"
function init(args)
  wrk.method = "POST"
  wrk.headers["Authorization"] = args[1]
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.body = args[2]
end
