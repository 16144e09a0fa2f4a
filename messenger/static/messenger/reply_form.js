// The staff inbox's reply form (templates/admin/messenger/chat/change_form.html). A file, not an inline
// script: the admin's Content-Security-Policy runs scripts from the gateway's own files only.
// The button is disabled once the form is sent: a double click posts once (the form's key makes sure anyway).
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("reply-form");
  if (!form) return;
  form.addEventListener("submit", function () {
    document.getElementById("send-reply").disabled = true;
  });
});
