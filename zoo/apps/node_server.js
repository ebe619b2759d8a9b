// Node.js http with the shutdown every tutorial shows: on SIGTERM, server.close() and exit when it
// calls back. /slow?ms=N answers after N ms (2000). Usage: node node_server.js PORT
const http = require('http');
const port = Number(process.argv[2]);
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const ms = url.pathname === '/slow' ? Number(url.searchParams.get('ms') || 2000) : 0;
  setTimeout(() => {
    res.writeHead(200, {'Content-Type': 'text/plain', 'Content-Length': 3});
    res.end('ok\n');
  }, ms);
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
