using System.Net.Sockets;
using System.Text;

namespace ActorGrid.Resp.Tests;

/// <summary>A bare RESP connection for what a client library would not send: raw framing, replies as text.</summary>
internal sealed class RawClient : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly MemoryStream _pending = new();

    private RawClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawClient> ConnectAsync(int port)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        return new RawClient(tcp);
    }

    /// <summary>Sends one command and returns its whole reply, lines joined by CRLF, without the last CRLF.</summary>
    public Task<string> SendAsync(params string[] args) => SendPipelineAsync(1, args);

    /// <summary>Sends the commands in one write and returns their <paramref name="replies"/> replies.</summary>
    public async Task<string> SendPipelineAsync(int replies, params string[][] commands)
    {
        var text = new StringBuilder();
        foreach (var command in commands)
        {
            text.Append('*').Append(command.Length).Append("\r\n");
            foreach (var arg in command)
            {
                text.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
            }
        }

        await _stream.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()));
        return await ReadRepliesAsync(replies);
    }

    public async Task<string> SendRawAsync(string raw)
    {
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(raw));
        return await ReadRepliesAsync(1);
    }

    public async Task SendRawNoReplyAsync(string raw) => await _stream.WriteAsync(Encoding.UTF8.GetBytes(raw));

    public void Dispose() => _tcp.Dispose();

    private async Task<string> ReadRepliesAsync(int count)
    {
        var lines = new List<string>();
        for (var i = 0; i < count; i++)
        {
            await ReadValueAsync(lines);
        }

        return string.Join("\r\n", lines);
    }

    private async Task ReadValueAsync(List<string> lines)
    {
        var line = await ReadLineAsync();
        lines.Add(line);
        switch (line[0])
        {
            case '$' when line != "$-1":
                lines.Add(await ReadLineAsync());
                break;
            case '*' when line != "*-1":
                for (var n = int.Parse(line[1..]); n > 0; n--)
                {
                    await ReadValueAsync(lines);
                }

                break;
        }
    }

    private async Task<string> ReadLineAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[1];
        var line = new List<byte>();
        while (true)
        {
            if (await _stream.ReadAsync(buffer, timeout.Token) == 0)
            {
                throw new IOException("connection closed");
            }

            if (buffer[0] == '\n' && line.Count > 0 && line[^1] == '\r')
            {
                return Encoding.UTF8.GetString([.. line.Take(line.Count - 1)]);
            }

            line.Add(buffer[0]);
        }
    }
}
