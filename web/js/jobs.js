// jobs.js — shows a job's progress in an element (#job-status) without reloading: polls
// GET /api/v1/jobs/<id> until the job is done or failed.
import { api, seg, ApiError } from './api.js';
import { h, set, badge } from './dom.js';
import { jobKind, time } from './format.js';

export const jobFinished = (job) => job && (job.state === 'done' || job.state === 'failed');

function render(el, job, label) {
  const parts = [h('span', { class: 'job-label' }, label || jobKind(job.kind)), ' ', badge(job.state, { class: 'job' })];
  if (job.state === 'failed') {
    parts.push(' ', h('span', { class: 'job-error' }, job.error ? `: ${job.error}` : ''));
  } else if (job.state === 'running' && job.step) {
    parts.push(' ', h('span', { class: 'muted' }, `(step: ${job.step})`));
  } else if (job.state === 'done' && job.finished_at) {
    parts.push(' ', h('span', { class: 'muted' }, `at ${time(job.finished_at)}`));
  }
  if (!jobFinished(job)) parts.unshift(h('span', { class: 'spinner', 'aria-hidden': 'true' }));
  set(el, parts);
  el.dataset.state = job.state;
  el.dataset.job = job.id;
  el.hidden = false;
}

/**
 * Watches job in el until it ends. onEnd(job) runs once it is done or failed; onChange(job)
 * on every new state. Returns a stop function. Polls every `interval` ms within scope.
 */
export function watchJob(scope, el, job, { label, onEnd, onChange, interval = 1000 } = {}) {
  let stopped = false;
  let last = job.state;
  render(el, job, label);
  if (onChange) onChange(job);
  if (jobFinished(job)) {
    if (onEnd) onEnd(job);
    return () => {};
  }
  let failures = 0;
  const stop = scope.poll(async () => {
    if (stopped) return;
    let j;
    try {
      j = await api.get(`/jobs/${seg(job.id)}`);
      failures = 0;
    } catch (e) {
      failures++;
      if (e instanceof ApiError && e.status === 404) {
        stopped = true;
        stop();
        set(el, h('span', { class: 'job-label' }, label || jobKind(job.kind)), ' is gone');
        return;
      }
      if (failures >= 3) {
        el.dataset.stale = 'true';
        el.title = `cannot read the job: ${e.detail || e.message}`;
      }
      return;
    }
    el.removeAttribute('data-stale');
    if (stopped || !scope.alive) return;
    render(el, j, label);
    if (j.state !== last) {
      last = j.state;
      if (onChange) onChange(j);
    }
    if (jobFinished(j)) {
      stopped = true;
      stop();
      if (onEnd) onEnd(j);
    }
  }, interval);
  return () => { stopped = true; stop(); };
}
