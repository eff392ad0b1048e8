// The video call page (GET /video/{session_id}): takes the user's JWT from the URL fragment
// (#access_token=..., as Supabase Auth's redirects hand it over), keeps it in this tab's
// sessionStorage and removes it from the address bar; asks POST /video/token with it; joins the
// call with Agora's Web SDK (window.AgoraRTC, loaded before this file). Every text from the
// server goes into the page as text (textContent), never as HTML.
"use strict";

(function () {
  const TOKEN_KEY = "mentorships.access_token";
  const main = document.getElementById("call");
  const sessionId = main.dataset.sessionId;
  const el = (id) => document.getElementById(id);
  const statusLine = el("status");
  const hintLine = el("hint");
  const accessLine = el("access");
  const localVideo = el("local-video");
  const remoteVideo = el("remote-video");
  const remoteLabel = el("remote-label");
  const muteButton = el("mute");
  const cameraButton = el("camera");
  const leaveButton = el("leave");

  // Times in the viewer's zone, the zone named: "16:15 Europe/Berlin" today, with the day else.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const timeFormat = new Intl.DateTimeFormat(undefined, {
    hour: "2-digit", minute: "2-digit", timeZone: zone,
  });
  const dayFormat = new Intl.DateTimeFormat(undefined, {
    weekday: "short", day: "numeric", month: "short", timeZone: zone,
  });
  function when(iso) {
    const instant = new Date(iso);
    const day = dayFormat.format(instant);
    const time = timeFormat.format(instant);
    return (day === dayFormat.format(new Date()) ? time : day + ", " + time) + " " + zone;
  }

  // Instants in a refusal's message (Postgres's "2026-11-03 13:50:00+00") in the viewer's zone.
  const INSTANT = /(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}(?::?\d{2})?)/g;
  function localized(text) {
    return text.replace(INSTANT, (match, date, time, offset) => {
      const zoneOffset = offset === "Z" ? "Z" : offset.slice(0, 3) + ":" + (offset.slice(3).replace(":", "") || "00");
      const instant = new Date(date + "T" + time + zoneOffset);
      return isNaN(instant.getTime()) ? match : when(instant.toISOString());
    });
  }

  function sentence(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  // kind: working, joined, refused or left (the status line's look); the video tiles and the
  // buttons show only while joining and in the call.
  function show(kind, status, hint) {
    statusLine.textContent = status;
    statusLine.dataset.kind = kind;
    main.dataset.phase = kind;
    hintLine.textContent = hint || "";
    hintLine.hidden = !hint;
  }

  function showAccess(text) {
    accessLine.textContent = text;
    accessLine.hidden = !text;
  }

  // The token: from the fragment (then kept for this tab and removed from the address bar and
  // its history entry), else the one this tab kept from an earlier visit.
  function takeToken() {
    const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    if (window.location.hash) {
      history.replaceState(history.state, "", window.location.pathname + window.location.search);
    }
    const fromUrl = fragment.get("access_token");
    if (fromUrl) {
      try { sessionStorage.setItem(TOKEN_KEY, fromUrl); } catch (e) { /* private mode: this load only */ }
      return { token: fromUrl };
    }
    const error = fragment.get("error_description") || fragment.get("error");
    if (error) return { error: error };
    try { return { token: sessionStorage.getItem(TOKEN_KEY) }; } catch (e) { return { token: null }; }
  }

  function forgetToken() {
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* nothing kept */ }
  }

  const OPEN_FROM_DASHBOARD =
    "Open the call from your Mentorships dashboard: the session's “Join the call” button brings " +
    "your sign-in to this page. If you came from a link in an email, sign in to the dashboard " +
    "and join from there.";

  async function askForAccess(token) {
    let response;
    try {
      response = await fetch("/video/token", {
        method: "POST",
        headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
        body: JSON.stringify({ session_id: sessionId }),
        cache: "no-store",
        credentials: "omit",
      });
    } catch (e) {
      show("refused", "Could not reach the server.", "Check your connection and reload the page.");
      return null;
    }
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (response.ok && body && body.token) return body;
    if (response.status === 401) {
      forgetToken();
      show("refused", "Your sign-in is not valid any more (it may have expired).", OPEN_FROM_DASHBOARD);
      return null;
    }
    if (body && typeof body.message === "string") {
      const hint = typeof body.hint === "string" ? localized(body.hint) : "";
      show("refused", sentence(localized(body.message)), hint);
    } else {
      show("refused", "The server could not give access to this call (HTTP " + response.status + ").",
        "Try again in a minute.");
    }
    return null;
  }

  // --- the call ---------------------------------------------------------------------------

  let client = null;
  let microphone = null;
  let camera = null;

  function setButtons(enabled) {
    muteButton.disabled = !enabled || !microphone;
    cameraButton.disabled = !enabled || !camera;
    leaveButton.disabled = !enabled;
  }

  function toggle(button, pressed, on, off) {
    button.setAttribute("aria-pressed", String(pressed));
    button.textContent = pressed ? off : on;
  }

  async function leave(status, hint) {
    setButtons(false);
    for (const track of [microphone, camera]) {
      if (track) track.close();
    }
    microphone = camera = null;
    localVideo.replaceChildren();
    remoteVideo.replaceChildren();
    if (client) {
      try { await client.leave(); } catch (e) { /* gone already */ }
    }
    show("left", status, hint);
  }

  async function publishLocalTracks() {
    try {
      [microphone, camera] = await window.AgoraRTC.createMicrophoneAndCameraTracks();
    } catch (e) {
      try {
        microphone = await window.AgoraRTC.createMicrophoneAudioTrack();
        hintLine.textContent = "Your camera is not available; you are in the call with sound only.";
        hintLine.hidden = false;
      } catch (e2) {
        hintLine.textContent = "Your camera and microphone are not available (" +
          String(e2 && e2.message || e2) + "); you can see and hear the other person.";
        hintLine.hidden = false;
        return;
      }
    }
    if (camera) camera.play(localVideo);
    await client.publish([microphone, camera].filter(Boolean));
  }

  function listen(access) {
    client.on("user-joined", () => { remoteLabel.textContent = "The other person"; });
    client.on("user-published", async (user, mediaType) => {
      await client.subscribe(user, mediaType);
      if (mediaType === "video" && user.videoTrack) user.videoTrack.play(remoteVideo);
      if (mediaType === "audio" && user.audioTrack) user.audioTrack.play();
    });
    client.on("user-unpublished", (user, mediaType) => {
      if (mediaType === "video") remoteVideo.replaceChildren();
    });
    client.on("user-left", () => {
      remoteVideo.replaceChildren();
      remoteLabel.textContent = "The other person left";
    });
    // The token expires when the access window closes; there is nothing to renew.
    client.on("token-privilege-will-expire", () => {
      showAccess("The call ends at " + when(access.expires_at) + ".");
    });
    client.on("token-privilege-did-expire", () => {
      leave("The call has ended.", "Access closed at " + when(access.expires_at) + ".");
    });
  }

  async function join(access) {
    show("working", "Joining…");
    main.dataset.phase = "joining";
    showAccess("Access until " + when(access.expires_at));
    window.AgoraRTC.setLogLevel(3);
    client = window.AgoraRTC.createClient({ mode: "rtc", codec: "vp8" });
    listen(access);
    try {
      await client.join(access.app_id, access.channel, access.token, access.uid);
    } catch (e) {
      show("refused", "Could not join the call.", String(e && e.message || e));
      return;
    }
    show("joined", "In the call");
    try {
      await publishLocalTracks();
    } catch (e) {
      hintLine.textContent = "Others cannot see or hear you: " + String(e && e.message || e);
      hintLine.hidden = false;
    }
    setButtons(true);
  }

  muteButton.addEventListener("click", async () => {
    if (!microphone) return;
    const muted = !microphone.muted;
    await microphone.setMuted(muted);
    toggle(muteButton, muted, "Mute", "Unmute");
  });
  cameraButton.addEventListener("click", async () => {
    if (!camera) return;
    const off = camera.enabled;
    await camera.setEnabled(!off);
    toggle(cameraButton, off, "Camera off", "Camera on");
  });
  leaveButton.addEventListener("click", () => {
    leave("You left the call.", "Reload this page to join again while access is open.");
  });

  async function start() {
    const taken = takeToken();
    if (taken.error) {
      show("refused", "Sign-in failed: " + taken.error, OPEN_FROM_DASHBOARD);
      return;
    }
    if (!taken.token) {
      show("refused", "Sign in to join this call.", OPEN_FROM_DASHBOARD);
      return;
    }
    if (!window.AgoraRTC) {
      show("refused", "The call software could not be loaded.", "Reload the page in a minute.");
      return;
    }
    show("working", "Asking for access…");
    const access = await askForAccess(taken.token);
    if (access) await join(access);
  }

  start();
})();
