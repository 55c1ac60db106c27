import { createServer, connect, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy between a server and its PostgreSQL, which a test can cut: `cut()` destroys every
 * open connection and stops listening, so new connections are refused (ECONNREFUSED) as when the
 * database host is down; `restore()` listens again on the same port.
 */
export class TcpProxy {
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  /** Connections accepted while listening. */
  accepted = 0

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const { port } = probe.address() as { port: number }
    await new Promise((resolve) => probe.close(resolve))
    const proxy = new TcpProxy(port, target)
    await proxy.restore()
    return proxy
  }

  /** Listens again, forwarding each new connection to the target. */
  async restore(): Promise<void> {
    if (this.server) return
    const server = createServer((client) => {
      this.accepted++
      const upstream = connect(this.target.port, this.target.host)
      for (const s of [client, upstream]) {
        this.sockets.add(s)
        s.on('close', () => this.sockets.delete(s))
        s.on('error', () => {}) // a cut connection errors on both sides; the peer sees it
      }
      client.pipe(upstream).pipe(client)
      client.on('close', () => upstream.destroy())
      upstream.on('close', () => client.destroy())
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => resolve())
    })
    this.server = server
  }

  /** Cuts every connection at once and refuses new ones until `restore()`. */
  async cut(): Promise<void> {
    const server = this.server
    this.server = undefined
    const closed = server && new Promise((resolve) => server.close(resolve))
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
    await closed
  }

  async stop(): Promise<void> {
    await this.cut()
  }
}
