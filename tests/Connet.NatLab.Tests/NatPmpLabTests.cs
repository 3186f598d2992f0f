using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Connet.NatLab.Tests;

/// <summary>
/// NAT-PMP against a real gateway: miniupnpd on router-a (<c>tools/natlab.sh natpmp a</c>), both routers symmetric so
/// that without the mapping no direct path exists (the matrix puts symmetric×symmetric on the relay). The destination
/// behind router-a runs with <c>nat-pmp = "system"</c>: it must find 10.1.0.1 as its default gateway, map its direct
/// port, show the mapping in its status, and the source behind router-b must connect directly to the mapped address.
/// </summary>
[Collection(NatLabGroup.Name)]
public sealed class NatPmpLabTests(NatLabFixture fixture)
{
    private const int DirectPort = 19192;
    private const int StatusPort = 19180;
    private const int SourcePort = 18001;

    /// <summary>Matrix cells use 0..15 with endpoints cellN; this test borrows cell 15's tokens under its own endpoint name.</summary>
    private const int TokenCell = NatLabFixture.MaxCells - 1;

    /// <summary>What miniupnpd announces for router-a (see tools/natlab.sh).</summary>
    private static readonly IPEndPoint Mapped = new(IPAddress.Parse("198.20.1.1"), DirectPort);

    [Fact]
    public async Task Destination_maps_its_direct_port_with_miniupnpd_and_the_source_connects_to_the_mapping()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(28));
        var lab = fixture.Lab;
        lab.SetNat(NatKind.Symmetric, NatKind.Symmetric);
        RunScript("natpmp", "--prefix", lab.Prefix, "a");
        try
        {
            string directory = Path.Combine(fixture.Directory, "natpmp");
            Directory.CreateDirectory(directory);
            using var echo = new EchoService(lab.Host('a'));
            File.WriteAllText(Path.Combine(directory, "destination.toml"), ClientConfig(NatLabFixture.DestinationToken(TokenCell), $"""
                nat-pmp = "system"

                [client.destinations.natpmp]
                url = "tcp://127.0.0.1:{echo.Port}"
                route = "direct"
                """));
            File.WriteAllText(Path.Combine(directory, "source.toml"), ClientConfig(NatLabFixture.SourceToken(TokenCell), $"""
                nat-pmp = "disabled"

                [client.sources.natpmp]
                url = "tcp://127.0.0.1:{SourcePort}"
                route = "direct"
                """));

            using var destination = new LabProcess(lab.Host('a'), directory, "--config", "destination.toml");
            using var source = new LabProcess(lab.Host('b'), directory, "--config", "source.toml");
            string Diagnostics() => $"\n--- destination ---\n{destination.Output}\n--- source ---\n{source.Output}\n--- router-a ---\n{RouterRules(lab)}";

            try
            {
                await CheckAsync();
            }
            catch (OperationCanceledException)
            {
                Assert.Fail("timed out" + Diagnostics());
            }

            async Task CheckAsync()
            {
                // The destination's status shows the mapping miniupnpd made, and miniupnpd's rules hold it.
                string? external = null;
                for (int poll = 0; poll < 400 && external != Mapped.ToString(); poll++)
                {
                    Assert.False(destination.HasExited, "the destination exited" + Diagnostics());
                    using var status = await StatusReader.TryReadAsync(lab.Host('a'), StatusPort, timeout.Token);
                    external = status is not null && status.RootElement.TryGetProperty("nat-pmp", out var natPmp) && natPmp.ValueKind == JsonValueKind.Object
                        ? natPmp.GetProperty("external-address").GetString()
                        : null;
                    await Task.Delay(50, timeout.Token);
                }

                Assert.True(external == Mapped.ToString(), $"the destination's NAT-PMP mapping is {external ?? "absent"}, expected {Mapped}{Diagnostics()}");
                Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"dnat ip to {NatLab.HostAddress('a')}:{DirectPort}"), RouterRules(lab), StringComparison.Ordinal);

                // The source, behind a symmetric NAT too, reaches the destination directly at the mapped address.
                bool direct = false;
                for (int poll = 0; poll < 400 && !direct; poll++)
                {
                    Assert.False(source.HasExited, "the source exited" + Diagnostics());
                    using var status = await StatusReader.TryReadAsync(lab.Host('b'), StatusPort, timeout.Token);
                    direct = status is not null && Connections(status).Any(connection => connection == ("outgoing", Mapped.ToString(), "public"));
                    await Task.Delay(50, timeout.Token);
                }

                Assert.True(direct, $"the source has no outgoing direct connection to {Mapped}{Diagnostics()}");
                byte[] payload = "through the NAT-PMP mapping"u8.ToArray();
                using var socket = NetNamespace.Tcp(lab.Host('b'));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, SourcePort), timeout.Token);
                using var stream = new NetworkStream(socket, ownsSocket: false);
                await stream.WriteAsync(payload, timeout.Token);
                byte[] echoed = new byte[payload.Length];
                await stream.ReadExactlyAsync(echoed, timeout.Token);
                Assert.Equal(payload, echoed);
            }
        }
        finally
        {
            RunScript("natpmp-stop", "--prefix", lab.Prefix, "a");
        }
    }

    private static IEnumerable<(string Direction, string Remote, string Scope)> Connections(JsonDocument status) =>
        status.RootElement.GetProperty("endpoints").EnumerateArray()
            .SelectMany(endpoint => endpoint.GetProperty("peers").EnumerateArray())
            .SelectMany(peer => peer.GetProperty("connections").EnumerateArray())
            .Select(connection => (connection.GetProperty("direction").GetString() ?? "", connection.GetProperty("remote-address").GetString() ?? "", connection.GetProperty("remote-scope").GetString() ?? ""));

    private string ClientConfig(string token, string rest) => string.Create(CultureInfo.InvariantCulture, $"""
        [client]
        token = "{token}"
        server-addr = "{NatLab.ServerAddress}:{NatLabFixture.ControlPort}"
        server-cas-file = "{fixture.CertificateFile}"
        direct-addr = ":{DirectPort}"
        status-addr = "127.0.0.1:{StatusPort}"
        {rest}
        """);

    private static string RouterRules(NatLab lab) => RunScript("exec", "--prefix", lab.Prefix, "router-a", "nft", "list", "table", "inet", "miniupnpd");

    /// <summary>Runs tools/natlab.sh; its output, or an exception naming the command and its stderr.</summary>
    private static string RunScript(params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in (string[])[NatLab.Script, .. args])
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new IOException("could not start bash");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"natlab.sh {string.Join(' ', args)} did not finish within 20 s");
        }

        return process.ExitCode == 0
            ? stdout.Result
            : throw new IOException($"natlab.sh {string.Join(' ', args)} exited {process.ExitCode}: {stderr.Result}{stdout.Result}");
    }
}
