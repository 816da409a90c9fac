// Reference for bench/warroom_fanout.py: the same events as /warroom, a plain in-memory broadcast
// (no authentication, no storage). Usage: node server.js PORT
const { createServer } = require("http");
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 5900);
const http = createServer((req, res) => { res.writeHead(200); res.end("ok"); });
const io = new Server(http, { maxHttpBufferSize: 64 * 1024, pingInterval: 20000, pingTimeout: 20000 });
const seqs = new Map();

io.of("/warroom").on("connection", (socket) => {
  socket.on("join", (data, ack) => {
    socket.join(`room:${data.room_id}`);
    if (ack) ack({ ok: true, room_id: data.room_id, events: [], last_seq: seqs.get(data.room_id) || 0 });
  });
  socket.on("message", (data, ack) => {
    const seq = (seqs.get(data.room_id) || 0) + 1;
    seqs.set(data.room_id, seq);
    const event = { room_id: data.room_id, seq, kind: "message", payload: { text: data.text },
      client_id: data.client_id, author: null, created_at: new Date().toISOString() };
    io.of("/warroom").to(`room:${data.room_id}`).emit("event", event);
    if (ack) ack({ ok: true, event });
  });
});

http.listen(port, "127.0.0.1", () => console.log(`reference listening on ${port}`));
