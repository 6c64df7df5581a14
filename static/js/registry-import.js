// The import's progress bar (templates/registry_import_job.html): polls the job's status and
// reloads the page when the check is over. No inline script: the CSP forbids it.
(() => {
  const box = document.getElementById('impor-kemajuan');
  if (!box) return;
  const bar = document.getElementById('impor-bar'), count = document.getElementById('impor-angka');
  const poll = async () => {
    try {
      const answer = await fetch(box.dataset.status, { credentials: 'same-origin', cache: 'no-store' });
      if (!answer.ok) { location.reload(); return; }
      const s = await answer.json();
      if (s.state !== 'checking') { location.reload(); return; }
      if (s.total) { bar.value = Math.min(100, Math.round(100 * s.done / s.total)); count.textContent = `${s.done} / ${s.total}`; }
    } catch (e) { /* offline a moment: try again */ }
    setTimeout(poll, 700);
  };
  setTimeout(poll, 300);
})();
