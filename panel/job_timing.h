/* job_timing.h — how long each step of a job took (issue 17 item 6), kept in the job_steps
 * table (migration 14) and shown in the job's JSON ("steps") and the UI's job lists.
 *
 * A job runs on one worker thread from claim to finish, so the open step lives in that thread:
 * job_timing_begin() closes the step the thread has open (a row with its duration) and opens the
 * next; job_timing_end() closes it. The agent reports the sub-steps of one call (storage clone,
 * xl create, netfilter...) in its result's "timings" array, which job_timing_agent() records
 * under the open job. Durations come from CLOCK_MONOTONIC in microseconds; started_at is unix
 * seconds (now_unix). A database error is logged and never fails the job. */
#ifndef XVPS_PANEL_JOB_TIMING_H
#define XVPS_PANEL_JOB_TIMING_H

#include <json-c/json.h>
#include <stdint.h>

#define JOB_STEP_NAME_MAX 48 /* bytes with the NUL: [a-z0-9._-], 1..47 characters */
#define JOB_TIMINGS_MAX   64 /* agent sub-steps recorded per call; more are ignored */

/* Closes the open step of this thread (when any) and opens step (valid_step_name) of job_id. */
void job_timing_begin(int64_t job_id, const char *step);
/* Closes the open step of this thread when it belongs to job_id; no-op otherwise. */
void job_timing_end(int64_t job_id);
/* Records the "timings" of an agent result ([{"step": name, "us": 0..86400000000}, ...]) as
 * source 'agent' rows of the thread's open job; entries with a bad name or value are skipped.
 * result may be NULL or lack "timings". */
void job_timing_agent(json_object *result);
/* True when s is a step name: 1..47 bytes of [a-z0-9._-]. */
bool job_step_name_ok(const char *s);
/* The steps of job_id, oldest first: [{"step","source":"panel"|"agent","started_at" (RFC 3339
 * UTC),"duration_us" (null while a panel step runs)}]; an empty array when none or on a database
 * error (logged). */
json_object *job_steps_json(int64_t job_id);

#endif
