using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Connet.Quic.Tests.Interop;

/// <summary>
/// An independent QUIC implementation to test against: quiche 0.18 + BoringSSL through the npm
/// package @matrixai/quic (tests/interop). Its wire habits matter to whoever tests against it:
/// the server always answers a token-less Initial with Retry; the client offers x25519, P-256
/// and P-384 but sends only an x25519 key share (a P-256-only server must send HelloRetryRequest)
/// and cannot be restricted to other groups; its datagrams carry zero padding after the last
/// coalesced packet. Its JS stream layer is slow (~10 Mbit/s): use it for correctness only.
/// </summary>
internal sealed class NodeQuicPeer : IAsyncDisposable
{
    public const string DefaultAlpn = "connet-interop";

    private readonly NodeProcess process;

    private NodeQuicPeer(NodeProcess process, IPEndPoint endPoint)
    {
        this.process = process;
        EndPoint = endPoint;
    }

    /// <summary>Where the echo server listens (always 127.0.0.1).</summary>
    public IPEndPoint EndPoint { get; }

    public int Port => EndPoint.Port;

    /// <summary>What the server has written on stderr so far (connection errors, library warnings).</summary>
    public string StandardError => process.StandardError;

    /// <summary>
    /// Starts echo-server.mjs on an ephemeral loopback port with <paramref name="certificates"/>'
    /// leaf and returns once it has bound. Each bidi stream is echoed and its write side finished
    /// when the peer finishes. Throws <see cref="NodePeerException"/> with the script's stderr if it
    /// exits or does not report ready within <see cref="NodeEchoServerOptions.ReadyTimeout"/>.
    /// </summary>
    public static async Task<NodeQuicPeer> StartEchoServerAsync(
        InteropCertificates certificates,
        NodeEchoServerOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        options ??= new NodeEchoServerOptions();
        var arguments = new List<string>
        {
            "--host", IPAddress.Loopback.ToString(),
            "--port", "0",
            "--cert", certificates.LeafCertificatePemPath,
            "--key", certificates.LeafKeyPemPath,
            "--alpn", options.Alpn,
        };
        if (options.VerifyPeer)
        {
            arguments.AddRange(["--ca", certificates.AuthorityPemPath, "--verify-peer"]);
        }

        AddDiagnostics(arguments, options.KeyLogFile, options.Verbose);

        var process = NodeProcess.Start("echo-server.mjs", arguments);
        try
        {
            var port = await WaitForListeningPortAsync(process, options.ReadyTimeout, cancellationToken).ConfigureAwait(false);
            return new NodeQuicPeer(process, new IPEndPoint(IPAddress.Loopback, port));
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs echo-client.mjs to completion against <paramref name="server"/>: one bidi stream,
    /// <see cref="NodeEchoClientOptions.Bytes"/> bytes of <see cref="InteropPayload"/> out, the echo
    /// checked byte for byte. The server certificate must chain to <paramref name="trust"/>'s CA
    /// and match <see cref="NodeEchoClientOptions.ServerName"/>. Throws <see cref="NodePeerException"/>
    /// (with the script's stderr) on any failure, including a handshake failure or a short echo.
    /// </summary>
    public static async Task<NodeEchoClientResult> RunEchoClientAsync(
        IPEndPoint server,
        InteropCertificates trust,
        NodeEchoClientOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(trust);
        options ??= new NodeEchoClientOptions();
        var arguments = new List<string>
        {
            "--host", server.Address.ToString(),
            "--port", server.Port.ToString(CultureInfo.InvariantCulture),
            "--server-name", options.ServerName,
            "--ca", trust.AuthorityPemPath,
            "--alpn", options.Alpn,
            "--bytes", options.Bytes.ToString(CultureInfo.InvariantCulture),
            "--seed", options.Seed.ToString(CultureInfo.InvariantCulture),
            "--timeout-ms", ((long)options.Timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        };
        if (options.ClientCertificate is { } client)
        {
            arguments.AddRange(["--cert", client.LeafCertificatePemPath, "--key", client.LeafKeyPemPath]);
        }

        AddDiagnostics(arguments, options.KeyLogFile, options.Verbose);

        await using var process = NodeProcess.Start("echo-client.mjs", arguments);

        // The script enforces options.Timeout itself; this outer limit only catches a wedged node.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(options.Timeout + TimeSpan.FromSeconds(30));
        string output;
        try
        {
            output = await process.ReadToEndAsync(limit.Token).ConfigureAwait(false);
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new NodePeerException(process.DescribeFailure("The node echo client hung"));
        }

        if (process.ExitCode != 0)
        {
            throw new NodePeerException(process.DescribeFailure("The node echo client failed"));
        }

        return ParseClientResult(process, output);
    }

    public ValueTask DisposeAsync() => process.DisposeAsync();

    private static void AddDiagnostics(List<string> arguments, string? keyLogFile, bool verbose)
    {
        if (keyLogFile is not null)
        {
            arguments.AddRange(["--keylog", keyLogFile]);
        }

        if (verbose)
        {
            arguments.Add("--verbose");
        }
    }

    private static async Task<int> WaitForListeningPortAsync(NodeProcess process, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        string? line;
        try
        {
            line = await process.ReadLineAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new NodePeerException(process.DescribeFailure($"The node echo server was not ready within {timeout}"));
        }

        if (line is null)
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            throw new NodePeerException(process.DescribeFailure("The node echo server exited before listening"));
        }

        try
        {
            using var json = JsonDocument.Parse(line);
            if (json.RootElement.TryGetProperty("listening", out var port) && port.TryGetInt32(out var value) && value is > 0 and <= 65535)
            {
                return value;
            }
        }
        catch (JsonException)
        {
            // Reported below together with the line itself.
        }

        throw new NodePeerException(process.DescribeFailure($"The node echo server's ready line is not {{\"listening\": port}}: '{line}'"));
    }

    private static NodeEchoClientResult ParseClientResult(NodeProcess process, string output)
    {
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        try
        {
            if (line is not null)
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                if (root.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True)
                {
                    return new NodeEchoClientResult(root.GetProperty("bytes").GetInt64(), root.GetProperty("ms").GetInt64());
                }
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new NodePeerException(process.DescribeFailure($"The node echo client printed an unreadable result '{line}'"), e);
        }

        throw new NodePeerException(process.DescribeFailure($"The node echo client exited 0 without reporting success (stdout: '{output.Trim()}')"));
    }
}
