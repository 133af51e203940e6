-- A plain GET of the URL given to wrk.
wrk.method = "GET"
