// CureConnect call page: sign in, pick an appointment, join its room, WebRTC video + chat.
// Plain JS, no build step. Talks to the REST API on this origin (/api/v1) and to the
// WebSocket API (API Gateway, or `make run`'s local gateway on port 8001; `?ws=` overrides).
//
// Resilience: a ping every 5 minutes keeps the socket inside API Gateway's 10-minute idle
// cut; a dropped socket (network, the 2-hour cap) reconnects with exponential backoff and
// rejoins the room and the chat; a failed ICE connection is restarted by the initiator.
(() => {
  'use strict';

  const params = new URLSearchParams(location.search);
  const API = '/api/v1';
  const WS_URL = params.get('ws') || `ws://${location.hostname}:8001`;
  const KEEPALIVE_MS = 5 * 60 * 1000;
  const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000, 30000];
  const $ = (id) => document.getElementById(id);

  // Everything the page knows, also read by the browser test.
  const cc = window.cc = {
    token: sessionStorage.getItem('cc-token'), me: JSON.parse(sessionStorage.getItem('cc-me') || 'null'),
    ws: null, pc: null, stream: null, roomId: null, appointmentId: null, initiator: false,
    attempts: 0, leaving: false, keepalive: null, pendingIce: [], iceServers: [], events: [],
    readIds: new Set(), // receipts that may arrive before the echo of our own message
  };

  function setStatus(state, text) {
    $('status').dataset.state = state;
    $('status').textContent = text;
  }

  function show(view) {
    for (const id of ['login-view', 'pick-view', 'call-view']) $(id).hidden = id !== view;
  }

  async function api(method, path, body) {
    const headers = { 'Content-Type': 'application/json' };
    if (cc.token) headers.Authorization = `Bearer ${cc.token}`;
    const res = await fetch(API + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
    const data = await res.json().catch(() => ({}));
    if (res.status === 401) signOut();
    if (!res.ok) throw Object.assign(new Error(data.message || res.statusText), { status: res.status });
    return data;
  }

  function signOut() {
    sessionStorage.removeItem('cc-token');
    sessionStorage.removeItem('cc-me');
    cc.token = null;
    cc.me = null;
    show('login-view');
    setStatus('signed-out', 'Signed out');
  }

  // ------------------------------------------------------------------ sign in, pick

  $('login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('login-error').textContent = '';
    try {
      const data = await api('POST', '/login', { contact: $('contact').value.trim(), password: $('password').value });
      cc.token = data.token;
      cc.me = data.user;
      sessionStorage.setItem('cc-token', cc.token);
      sessionStorage.setItem('cc-me', JSON.stringify(cc.me));
      await afterSignIn();
    } catch (err) {
      $('login-error').textContent = err.message;
    }
  });

  async function afterSignIn() {
    const wanted = params.get('appointment');
    if (wanted) return openAppointment(wanted);
    const data = await api('GET', '/appointment/my?status=confirmed');
    const list = $('appointments');
    list.replaceChildren();
    for (const appt of data.appointments || []) {
      const item = document.createElement('li');
      const other = cc.me.role === 'doctor' ? appt.patient : appt.doctor;
      item.textContent = `${appt.day} ${appt.time} with ${(other && other.name) || 'your clinician'}`;
      const button = document.createElement('button');
      button.textContent = 'Join';
      button.dataset.id = appt._id;
      button.addEventListener('click', () => openAppointment(appt._id));
      item.append(button);
      list.append(item);
    }
    if (!list.children.length) list.textContent = 'No confirmed appointments.';
    show('pick-view');
    setStatus('idle', `Signed in as ${cc.me.name}`);
  }

  async function openAppointment(appointmentId) {
    const { appointment } = await api('GET', `/appointment/${appointmentId}`);
    cc.appointmentId = appointmentId;
    cc.roomId = appointment.roomId;
    const other = cc.me.role === 'doctor' ? appointment.patient : appointment.doctor;
    $('peer-name').textContent = (other && other.name) || 'Other participant';
    show('call-view');
    // TURN credentials come only for a participant of a room that is open now (else STUN only).
    cc.iceServers = (await api('GET', `/rtc/ice-servers?roomId=${encodeURIComponent(cc.roomId)}`)).iceServers || [];
    await startMedia();
    await loadHistory();
    connect();
  }

  // ------------------------------------------------------------------ media

  async function startMedia() {
    try {
      cc.stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    } catch (err) {
      cc.stream = new MediaStream(); // join without camera/microphone rather than not at all
      cc.events.push(`media: ${err.name}`);
    }
    $('local').srcObject = cc.stream;
  }

  $('mute').addEventListener('click', () => {
    for (const track of cc.stream.getAudioTracks()) track.enabled = !track.enabled;
    $('mute').textContent = cc.stream.getAudioTracks().some((t) => !t.enabled) ? 'Unmute' : 'Mute';
  });
  $('camera').addEventListener('click', () => {
    for (const track of cc.stream.getVideoTracks()) track.enabled = !track.enabled;
    $('camera').textContent = cc.stream.getVideoTracks().some((t) => !t.enabled) ? 'Camera on' : 'Camera off';
  });
  $('hangup').addEventListener('click', () => {
    cc.leaving = true;
    send({ action: 'leave-room', roomId: cc.roomId });
    closePeer();
    if (cc.ws) cc.ws.close(1000);
    setStatus('idle', 'You left the call');
  });

  // ------------------------------------------------------------------ signaling socket

  function send(frame) {
    if (cc.ws && cc.ws.readyState === WebSocket.OPEN) cc.ws.send(JSON.stringify(frame));
  }

  function connect() {
    cc.leaving = false;
    setStatus('connecting', 'Connecting…');
    const ws = new WebSocket(`${WS_URL}/?token=${encodeURIComponent(cc.token)}`);
    cc.ws = ws;
    ws.onopen = () => {
      cc.attempts = 0;
      send({ action: 'join-room', roomId: cc.roomId });
      send({ action: 'chat-join', roomId: cc.roomId });
      clearInterval(cc.keepalive);
      cc.keepalive = setInterval(() => send({ action: 'ping' }), KEEPALIVE_MS);
    };
    ws.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      cc.events.push(frame.type);
      const handler = handlers[frame.type];
      if (handler) handler(frame).catch((err) => cc.events.push(`error: ${err.message}`));
    };
    ws.onclose = () => {
      clearInterval(cc.keepalive);
      if (cc.ws !== ws || cc.leaving) return;
      // Dropped (network, idle cut, 2-hour cap): back off, reconnect, rejoin. The media
      // connection may survive on its own; a new `ready` renegotiates it if needed.
      const delay = BACKOFF_MS[Math.min(cc.attempts, BACKOFF_MS.length - 1)] * (0.75 + Math.random() / 2);
      cc.attempts += 1;
      setStatus('offline', `Reconnecting in ${Math.round(delay / 1000)} s…`);
      setTimeout(() => { if (!cc.leaving) { loadHistory(); connect(); } }, delay);
    };
  }

  // ------------------------------------------------------------------ WebRTC

  function closePeer() {
    if (cc.pc) { cc.pc.onconnectionstatechange = null; cc.pc.close(); }
    cc.pc = null;
    cc.pendingIce = [];
    $('remote').srcObject = null;
  }

  function newPeer() {
    closePeer();
    const pc = new RTCPeerConnection({ iceServers: cc.iceServers });
    cc.pc = pc;
    for (const track of cc.stream.getTracks()) pc.addTrack(track, cc.stream);
    pc.onicecandidate = (e) => send({ action: 'ice-candidate', roomId: cc.roomId, candidate: e.candidate ? e.candidate.toJSON() : null });
    pc.ontrack = (e) => { $('remote').srcObject = e.streams[0] || new MediaStream([e.track]); };
    pc.onconnectionstatechange = () => {
      const state = pc.connectionState;
      setStatus(state, { connected: 'In call', connecting: 'Connecting media…', failed: 'Media failed, restarting…',
        disconnected: 'Media interrupted…' }[state] || state);
      if (state === 'failed' && cc.initiator) offer({ iceRestart: true });
    };
    return pc;
  }

  async function offer(options) {
    const pc = cc.pc || newPeer();
    await pc.setLocalDescription(await pc.createOffer(options));
    send({ action: 'offer', roomId: cc.roomId, offer: pc.localDescription.toJSON() });
  }

  async function flushIce() {
    for (const candidate of cc.pendingIce.splice(0)) await cc.pc.addIceCandidate(candidate);
  }

  const handlers = {
    async joined(frame) { setStatus('waiting', frame.waiting ? 'Waiting for the other participant…' : 'Joining…'); },
    async ready(frame) {
      cc.initiator = frame.initiator;
      newPeer();
      if (frame.initiator) await offer();
    },
    async offer(frame) {
      const pc = cc.pc || newPeer(); // an ICE restart renegotiates on the same connection
      await pc.setRemoteDescription(frame.offer);
      await flushIce();
      await pc.setLocalDescription(await pc.createAnswer());
      send({ action: 'answer', roomId: cc.roomId, answer: pc.localDescription.toJSON() });
    },
    async answer(frame) {
      if (!cc.pc) return;
      await cc.pc.setRemoteDescription(frame.answer);
      await flushIce();
    },
    async 'ice-candidate'(frame) {
      if (!frame.candidate) return;
      if (cc.pc && cc.pc.remoteDescription) await cc.pc.addIceCandidate(frame.candidate);
      else cc.pendingIce.push(frame.candidate);
    },
    async 'peer-left'() {
      closePeer();
      setStatus('waiting', 'The other participant left; waiting…');
    },
    async 'room-full'() { setStatus('failed', 'This room is full'); cc.leaving = true; cc.ws.close(1000); },
    async error(frame) {
      cc.events.push(`error:${frame.code}`);
      if (frame.code === 'forbidden') { setStatus('failed', 'You cannot join this call now'); cc.leaving = true; cc.ws.close(1000); }
      // The account opened more connections than allowed and this, the oldest, is closed: do not
      // reconnect (that would close the newer one in turn).
      if (frame.code === 'replaced') { setStatus('failed', 'This call is open in another window'); cc.leaving = true; }
    },
    async message(frame) { addMessage(frame); },
    async typing() {
      $('typing').textContent = 'typing…';
      clearTimeout(cc.typingTimer);
      cc.typingTimer = setTimeout(() => { $('typing').textContent = ''; }, 3000);
    },
    async 'message-read'(frame) {
      cc.readIds.add(frame.id);
      const item = document.querySelector(`li[data-id="${frame.id}"]`);
      if (item && !item.querySelector('.read')) item.insertAdjacentHTML('beforeend', '<span class="read">read</span>');
    },
    async 'doctor-joined'(frame) { setStatus('waiting', `${frame.doctorName || 'Your doctor'} is in the room`); },
    async pong() {},
  };

  // ------------------------------------------------------------------ chat

  function addMessage(message) {
    if (document.querySelector(`li[data-id="${message.id}"]`)) return;
    const item = document.createElement('li');
    item.dataset.id = message.id;
    const mine = cc.me && message.sender === cc.me._id;
    item.className = mine ? 'mine' : 'theirs';
    item.textContent = message.text; // text, never HTML
    if (mine && (message.readAt || cc.readIds.has(message.id))) item.insertAdjacentHTML('beforeend', '<span class="read">read</span>');
    $('messages').append(item);
    $('messages').scrollTop = $('messages').scrollHeight;
    if (!mine && !message.readAt) send({ action: 'message-read', id: message.id });
  }

  async function loadHistory() {
    try {
      const data = await api('GET', `/chat/${encodeURIComponent(cc.roomId)}/messages?limit=50`);
      for (const message of (data.messages || []).reverse()) addMessage(message);
    } catch (err) {
      cc.events.push(`history: ${err.message}`);
    }
  }

  $('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('chat-text').value.trim();
    if (!text) return;
    send({ action: 'user-message', roomId: cc.roomId, text });
    $('chat-text').value = '';
  });
  let lastTyping = 0;
  $('chat-text').addEventListener('input', () => {
    if (Date.now() - lastTyping > 2000) { lastTyping = Date.now(); send({ action: 'typing', roomId: cc.roomId }); }
  });

  // ------------------------------------------------------------------ start

  if (cc.token && cc.me) afterSignIn().catch(() => signOut());
  else show('login-view');
})();
