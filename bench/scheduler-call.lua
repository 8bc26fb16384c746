-- bench/scheduler-call.lua: the wrk script of bench/throughput. It POSTs a
-- scheduler DECLINE call (about 200 bytes of JSON) to /api/v1/scheduler,
-- which a leading master answers with an empty 202. BENCH_FRAMEWORK_ID and
-- BENCH_STREAM_ID (environment) name a subscribed framework and its stream,
-- for targets that check them (the stand-in master); bench/backend accepts
-- any call.
local framework = os.getenv("BENCH_FRAMEWORK_ID") or "bench-0000"
local stream = os.getenv("BENCH_STREAM_ID") or "00000000-0000-4000-8000-000000000000"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["Mesos-Stream-Id"] = stream
wrk.body = '{"framework_id":{"value":"' .. framework .. '"},"type":"DECLINE",' ..
    '"decline":{"offer_ids":[{"value":"b3c0ffee-0000-4000-8000-000000000000-O1234"},' ..
    '{"value":"b3c0ffee-0000-4000-8000-000000000000-O1235"}],' ..
    '"filters":{"refuse_seconds":5.0}}}'
