// The small DOM helpers the fill page, its offline outbox, the beneficiary picker and the editor share.

// An element with attributes ('class' sets the class name) and, when given, its text.
export function make(tag, props, text) {
  const e = document.createElement(tag);
  Object.keys(props || {}).forEach((k) => { if (k === 'class') e.className = props[k]; else e.setAttribute(k, props[k]); });
  if (text !== undefined) e.textContent = text;
  return e;
}

// The session's CSRF token for a JSON call: the csrftoken cookie, else the page's own form field.
export function csrf() {
  const m = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie), input = document.querySelector('[name="_csrf_token"]');
  return m ? decodeURIComponent(m[1]) : input ? input.value : '';
}
