// views/templates.js — #/admin/templates: list, create (the agent makes the image), import a
// cloud image (template-import.js), delete.
import { h, table, emptyRow, pageHeader } from '../dom.js';
import { api, seg, listAll } from '../api.js';
import { buildForm, onSubmit } from '../forms.js';
import { banner, clearBanner, confirmDialog, notice } from '../ui.js';
import { timeEl } from '../format.js';
import { templateImportCard } from './template-import.js';

const FIELDS = [
  { name: 'name', label: 'Name', placeholder: 'debian-12' },
  { name: 'os', label: 'OS', placeholder: 'debian' },
  { name: 'disk_gib', label: 'Disk (GiB)', type: 'number', min: 1, value: 2 },
  { name: 'boot', label: 'Boot', type: 'select', value: 'pvh', options: [
    { value: 'pvh', label: 'PVH' }, { value: 'pv', label: 'PV' }, { value: 'hvm', label: 'HVM' }] },
  { name: 'source', label: 'Source image', optional: true, hint: 'A file name in the agent\'s template directory; empty for a blank image.' },
];

export async function templatesView(ctx) {
  const { main, scope } = ctx;
  const t = table(['Name', 'OS', 'Disk', 'Boot', 'Seed', 'State', { label: 'Source', class: 'hide-sm' }, { label: 'Created', class: 'hide-md' }, { label: 'Actions', class: 'actions' }],
    { id: 'template-list' });
  const form = buildForm({ id: 'template-form', fields: FIELDS, submitLabel: 'Create template' });
  main.append(pageHeader('Templates'),
    h('section', { class: 'card card-flush' }, t.wrap),
    h('details', { class: 'card create', open: true }, h('summary', { class: 'card-title' }, 'New template'), form),
    templateImportCard(ctx, () => load()));

  async function load() {
    const { items } = await listAll('/templates');
    if (!scope.alive) return;
    t.tbody.replaceChildren();
    if (items.length === 0) emptyRow(t.tbody, 9, 'No templates yet.');
    for (const tp of items) {
      t.tbody.append(h('tr', { class: 'template-row', dataset: { id: String(tp.id) } },
        h('td', { class: 'name' }, tp.name),
        h('td', null, tp.os),
        h('td', null, `${tp.disk_gib} GiB`),
        h('td', null, String(tp.boot).toUpperCase()),
        h('td', { class: 'seed' }, tp.seed === 'nocloud' ? 'cloud-init' : 'xvps'),
        h('td', { class: 'state' }, tp.state === 'importing' ? h('span', { class: 'muted' }, 'importing…') : 'ready'),
        h('td', { class: 'hide-sm' }, tp.source || h('span', { class: 'muted' }, 'blank')),
        h('td', { class: 'hide-md' }, timeEl(tp.created_at)),
        h('td', { class: 'actions' },
          h('button', { type: 'button', class: 'btn btn-small btn-danger-outline', onclick: () => remove(tp) }, 'Delete'))));
    }
  }

  onSubmit(form, (body) => api.post('/templates', body), async (tp) => {
    form.reset();
    notice(`Template ${tp.name} created.`);
    await load();
  });

  async function remove(tp) {
    clearBanner();
    if (!(await confirmDialog({ title: `Delete template ${tp.name}?`, text: 'Its image is removed. A template a server uses cannot be deleted.', confirmLabel: 'Delete template' }))) return;
    try {
      await api.del(`/templates/${seg(tp.id)}`);
      notice(`Template ${tp.name} deleted.`);
      await load();
    } catch (e) { banner(e); }
  }

  await load();
}
