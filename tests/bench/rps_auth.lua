-- rps_auth.lua — wrk script for the xvpsd benchmark (tests/bench/run.sh): every request carries
-- the API key from $XVPS_TOKEN as a bearer token; prints how many answers were not 2xx/3xx.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("XVPS_TOKEN")
wrk.headers["Accept"] = "application/json"

done = function(summary, latency, requests)
	io.write(string.format("bench: wrk_non_2xx %d responses\n", summary.errors.status))
end
