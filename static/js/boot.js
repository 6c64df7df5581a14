// Loaded as a blocking classic script in the fill page's head (the page's CSP allows no inline
// script): hide what is not relevant from the first paint; if the runtime has not started after
// 20 s (no rules, a script blocked), show the plain form again.
var d = document.documentElement;
d.className = 'js';
setTimeout(function () { if (!d.getAttribute('data-pantau')) d.className = ''; }, 20000);
