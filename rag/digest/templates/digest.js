// Links are handled here rather than by navigation, so they work the same in a file, in a
// sandboxed frame (where "#id" would resolve against the host page) and after a reload. The
// script sits in the head, so a link clicked while the page is still being read works too.
function show(id){var t=id&&document.getElementById(id);if(!t)return false;
document.querySelectorAll('mark.target').forEach(function(m){m.classList.remove('target')});
t.classList.add('target');var d=t.closest('details');if(d)d.open=true;
t.scrollIntoView({block:'center'});return true;}
document.addEventListener('click',function(e){var a=e.target.closest('a[href^="#"]');
if(a&&show(decodeURIComponent(a.getAttribute('href').slice(1))))e.preventDefault();});
document.addEventListener('DOMContentLoaded',function(){
if(location.hash)show(decodeURIComponent(location.hash.slice(1)));});
