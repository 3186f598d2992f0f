using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Connet.NatLab.Tests;

/// <summary>
/// The matrix: every pairing of NAT kinds, a destination behind router-a and a source behind router-b (route any),
/// real connet processes in the lab's namespaces. Each cell checks both routers with the probe first, then measures
/// the path the source uses, the time to its first direct connection, and a 10 MiB echo through the tunnel.
/// </summary>
[Collection(NatLabGroup.Name)]
public sealed class NatMatrixTests(NatLabFixture fixture)
{
    private const int TransferBytes = 10 * 1024 * 1024;
    private const int DirectPort = 19192;
    private const int StatusPort = 19180;
    private const int SourcePort = 18000;

    /// <summary>How long a cell waits for a direct connection before settling for the relay.</summary>
    private static readonly TimeSpan DirectDeadline = TimeSpan.FromSeconds(12);

    private static readonly TimeSpan CellTimeout = TimeSpan.FromSeconds(28);

    /// <summary>
    /// Why a symmetric NAT against a port-restricted one cannot go direct today: the symmetric side's packets to the
    /// peer leave from a fresh random port the peer never learns, and the port-restricted side only admits the exact
    /// address and port it sent to. Go connet cannot either; issue 5 asks for port prediction (sequential symmetric NATs)
    /// and birthday-style probing (random ones), which the client does not have yet.
    /// </summary>
    public const string PortPredictionMissing = "needs port prediction or birthday probing for symmetric NATs (issue 5), not implemented yet";

    /// <summary>Every pairing the client handles today: all but a symmetric NAT against a port-restricted one.</summary>
    public static TheoryData<NatKind, NatKind> SupportedPairings()
    {
        var data = new TheoryData<NatKind, NatKind>();
        foreach (var destination in NatKinds.All)
        {
            foreach (var source in NatKinds.All)
            {
                if (!NeedsPortPrediction(destination, source))
                {
                    data.Add(destination, source);
                }
            }
        }

        return data;
    }

    public static TheoryData<NatKind, NatKind> PortPredictionPairings() => new()
    {
        { NatKind.Symmetric, NatKind.PortRestricted },
        { NatKind.PortRestricted, NatKind.Symmetric },
    };

    /// <summary>Direct in every supported pairing but symmetric×symmetric, which must carry the data through the relay.</summary>
    [Theory]
    [MemberData(nameof(SupportedPairings))]
    public async Task PairingTakesTheExpectedPathAndCarriesTenMebibytes(NatKind destination, NatKind source)
    {
        string expected = destination == NatKind.Symmetric && source == NatKind.Symmetric ? "relay" : "direct";
        var cell = await RunCellAsync(destination, source, expected == "relay" ? "relay expected: both mappings are random" : "");

        Assert.Equal(TransferBytes, cell.BytesVerified);
        Assert.True(cell.Path == expected, $"{destination} destination, {source} source: expected {expected}, measured {cell.Path}");
    }

    /// <summary>
    /// Today's behaviour where issue 5 expects more: the data must still arrive (through the relay); the path is
    /// measured and reported in the table, not asserted, so the table says honestly what happens.
    /// </summary>
    [Theory]
    [MemberData(nameof(PortPredictionPairings))]
    public async Task SymmetricAgainstPortRestrictedStillCarriesTenMebibytes(NatKind destination, NatKind source)
    {
        var cell = await RunCellAsync(destination, source, "direct expected by issue 5; " + PortPredictionMissing);

        Assert.Equal(TransferBytes, cell.BytesVerified);
    }

    /// <summary>What issue 5 expects of these pairings, skipped until the client predicts or probes ports.</summary>
    [Theory(Skip = PortPredictionMissing)]
    [MemberData(nameof(PortPredictionPairings))]
    public async Task SymmetricAgainstPortRestrictedConnectsDirectly(NatKind destination, NatKind source)
    {
        var cell = await RunCellAsync(destination, source, "");

        Assert.Equal("direct", cell.Path);
    }

    private static bool NeedsPortPrediction(NatKind destination, NatKind source) =>
        (destination, source) is (NatKind.Symmetric, NatKind.PortRestricted) or (NatKind.PortRestricted, NatKind.Symmetric);

    private async Task<MatrixCell> RunCellAsync(NatKind destinationKind, NatKind sourceKind, string note)
    {
        using var timeout = new CancellationTokenSource(CellTimeout);
        var lab = fixture.Lab;
        int cell = ((int)destinationKind * NatKinds.All.Length) + (int)sourceKind;
        // Trust no cell to a router that does not behave as its kind. A switch of kinds can race traffic of the
        // previous cell's processes still winding down (seen once in CI: address-restricted measured as full-cone), so
        // the switch and the probe get a bounded second and third chance before the cell fails.
        lab.SetNat(destinationKind, sourceKind);
        var measuredA = await NatProbe.ClassifyAsync(lab, 'a', timeout.Token);
        var measuredB = await NatProbe.ClassifyAsync(lab, 'b', timeout.Token);
        for (int retry = 0; retry < 2 && (measuredA.Kind != destinationKind || measuredB.Kind != sourceKind); retry++)
        {
            lab.SetNat(destinationKind, sourceKind);
            measuredA = await NatProbe.ClassifyAsync(lab, 'a', timeout.Token);
            measuredB = await NatProbe.ClassifyAsync(lab, 'b', timeout.Token);
        }

        Assert.True(measuredA.Kind == destinationKind, $"router-a set to {destinationKind} measured {measuredA}");
        Assert.True(measuredB.Kind == sourceKind, $"router-b set to {sourceKind} measured {measuredB}");

        string directory = Path.Combine(fixture.Directory, string.Create(CultureInfo.InvariantCulture, $"cell-{cell}"));
        Directory.CreateDirectory(directory);
        string endpoint = string.Create(CultureInfo.InvariantCulture, $"cell{cell}");
        using var echo = new EchoService(lab.Host('a'));
        File.WriteAllText(Path.Combine(directory, "destination.toml"), ClientConfig(NatLabFixture.DestinationToken(cell), $"""
            [client.destinations.{endpoint}]
            url = "tcp://127.0.0.1:{echo.Port}"
            route = "any"
            """));
        File.WriteAllText(Path.Combine(directory, "source.toml"), ClientConfig(NatLabFixture.SourceToken(cell), $"""
            [client.sources.{endpoint}]
            url = "tcp://127.0.0.1:{SourcePort}"
            route = "any"
            """));

        var started = Stopwatch.StartNew();
        using var destinationClient = new LabProcess(lab.Host('a'), directory, "--config", "destination.toml");
        using var sourceClient = new LabProcess(lab.Host('b'), directory, "--config", "source.toml");
        string Diagnostics() => $"\n--- destination ---\n{destinationClient.Output}\n--- source ---\n{sourceClient.Output}\n--- server ---\n{fixture.ServerOutput}";

        try
        {
            TimeSpan? timeToDirect = null;
            bool relayed = false;
            for (int poll = 0; poll < 400 && timeToDirect is null && (started.Elapsed < DirectDeadline || !relayed); poll++)
            {
                Assert.False(destinationClient.HasExited, "the destination exited" + Diagnostics());
                Assert.False(sourceClient.HasExited, "the source exited" + Diagnostics());
                using var status = await StatusReader.TryReadAsync(lab.Host('b'), StatusPort, timeout.Token);
                if (status is not null)
                {
                    var directions = StatusReader.ConnectionDirections(status);
                    relayed |= directions.Contains("relay");
                    if (directions.Any(direction => direction is "outgoing" or "incoming"))
                    {
                        timeToDirect = started.Elapsed;
                    }
                }

                await Task.Delay(50, timeout.Token);
            }

            string path = timeToDirect is not null ? "direct" : relayed ? "relay" : "none";
            if (path == "none")
            {
                fixture.Report.Record(new MatrixCell(destinationKind, sourceKind, path, null, 0, "no connection to the destination"));
                Assert.Fail($"{destinationKind} destination, {sourceKind} source: the source never connected to the destination{Diagnostics()}");
            }

            long verified = await EchoThroughSourceAsync(lab.Host('b'), timeout.Token);
            var result = new MatrixCell(destinationKind, sourceKind, path, timeToDirect, verified, note);
            fixture.Report.Record(result);
            return result;
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or SocketException)
        {
            fixture.Report.Record(new MatrixCell(destinationKind, sourceKind, "failed", null, 0, exception.GetType().Name));
            Assert.Fail($"{destinationKind} destination, {sourceKind} source: {exception.Message}{Diagnostics()}");
            throw;
        }
    }

    private string ClientConfig(string token, string endpoint) => string.Create(CultureInfo.InvariantCulture, $"""
        [client]
        token = "{token}"
        server-addr = "{NatLab.ServerAddress}:{NatLabFixture.ControlPort}"
        server-cas-file = "{fixture.CertificateFile}"
        direct-addr = ":{DirectPort}"
        status-addr = "127.0.0.1:{StatusPort}"

        {endpoint}
        """);

    /// <summary>Sends 10 MiB of random bytes into the source and reads them back from the echo behind the destination.</summary>
    private static async Task<long> EchoThroughSourceAsync(string sourceNamespace, CancellationToken cancellationToken)
    {
        byte[] payload = RandomNumberGenerator.GetBytes(TransferBytes);
        using var socket = NetNamespace.Tcp(sourceNamespace);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, SourcePort), cancellationToken);
        using var stream = new NetworkStream(socket, ownsSocket: false);
        var writing = stream.WriteAsync(payload, cancellationToken).AsTask();
        byte[] received = new byte[payload.Length];
        await stream.ReadExactlyAsync(received, cancellationToken);
        await writing;
        return received.AsSpan().SequenceEqual(payload) ? received.Length : 0;
    }
}
