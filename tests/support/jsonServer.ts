import * as http from "node:http";

export type SendJson = (status: number, value: unknown) => void;

/** An HTTP server on 127.0.0.1 (a free port) that hands each request, its whole body and a JSON reply function to `handle`. */
export async function startJsonServer(handle: (request: http.IncomingMessage, body: string, send: SendJson) => void): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () =>
      handle(request, body, (status, value) => {
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(value));
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}
