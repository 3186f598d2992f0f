using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Connet.Quic.Tests.Api;

/// <summary>
/// One socket that accepts and dials at once (the hole-punching primitive), under load: several connections each way
/// between three endpoints, handshaking concurrently, then streams on every connection in both directions at once.
/// </summary>
public sealed class DualRoleEndpointLoopbackTests : IDisposable
{
    private const int PayloadLength = 128 * 1024;
    private const int StreamsPerConnectionSide = 2;

    private readonly X509Certificate2 _certificate = LoopbackKit.CreateSelfSigned("localhost");

    public void Dispose() => _certificate.Dispose();

    [Fact]
    public async Task Endpoint_accepts_and_dials_several_connections_at_once_and_all_carry_streams_both_ways()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        CancellationToken cancellationToken = timeout.Token;
        await using QuicEndpoint a = QuicEndpoint.Bind(LoopbackKit.ListeningEndpoint(_certificate));
        await using QuicEndpoint b = QuicEndpoint.Bind(LoopbackKit.ListeningEndpoint(_certificate));
        await using QuicEndpoint c = QuicEndpoint.Bind(LoopbackKit.ListeningEndpoint(_certificate));

        // Everything at once: A accepts three (two from B, one from C) while dialling B twice and C twice, all from
        // its one socket; B and C likewise accept while they dial.
        Task<QuicConnection[]> aAccepted = AcceptAsync(a, 3, cancellationToken);
        Task<QuicConnection[]> bAccepted = AcceptAsync(b, 2, cancellationToken);
        Task<QuicConnection[]> cAccepted = AcceptAsync(c, 2, cancellationToken);
        Task<QuicConnection>[] dialled =
        [
            Dial(a, b, cancellationToken), Dial(a, b, cancellationToken), Dial(a, c, cancellationToken), Dial(a, c, cancellationToken),
            Dial(b, a, cancellationToken), Dial(b, a, cancellationToken), Dial(c, a, cancellationToken),
        ];
        QuicConnection[] aDialled = [.. (await Task.WhenAll(dialled))[..4]];
        QuicConnection[] towardsA = [.. dialled[4..].Select(task => task.Result)];
        QuicConnection[] everyConnection = [.. dialled.Select(task => task.Result), .. await aAccepted, .. await bAccepted, .. await cAccepted];
        try
        {
            Assert.All(aDialled, connection => Assert.Equal(a.LocalEndPoint, connection.LocalEndPoint));
            Assert.Equal(
                towardsA.Select(connection => connection.LocalEndPoint.Port).Order(),
                (await aAccepted).Select(connection => connection.RemoteEndPoint.Port).Order());
            Assert.Equal(
                [a.LocalEndPoint.Port, a.LocalEndPoint.Port, a.LocalEndPoint.Port, a.LocalEndPoint.Port],
                (await bAccepted).Concat(await cAccepted).Select(connection => connection.RemoteEndPoint.Port));

            using var stopEchoing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task[] echoes = [.. everyConnection.Select(connection => LoopbackKit.EchoStreamsAsync(connection, stopEchoing.Token))];
            var roundTrips = new List<(byte[] Sent, Task<byte[]> Received)>();
            int seed = 0;
            foreach (QuicConnection connection in everyConnection)
            {
                for (int i = 0; i < StreamsPerConnectionSide; i++)
                {
                    byte[] payload = LoopbackKit.SeededPayload(++seed, PayloadLength);
                    roundTrips.Add((payload, LoopbackKit.RoundTripAsync(connection, payload, cancellationToken)));
                }
            }

            await Task.WhenAll(roundTrips.Select(roundTrip => roundTrip.Received));
            Assert.All(roundTrips, roundTrip => Assert.Equal(roundTrip.Sent, roundTrip.Received.Result));
            Assert.Equal(everyConnection.Length * StreamsPerConnectionSide, roundTrips.Count);

            await stopEchoing.CancelAsync();
            await Task.WhenAll(echoes);
        }
        finally
        {
            foreach (QuicConnection connection in everyConnection)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private static async Task<QuicConnection[]> AcceptAsync(QuicEndpoint endpoint, int count, CancellationToken cancellationToken)
    {
        var accepted = new QuicConnection[count];
        for (int i = 0; i < count; i++)
        {
            accepted[i] = await endpoint.AcceptConnectionAsync(cancellationToken);
        }

        return accepted;
    }

    private Task<QuicConnection> Dial(QuicEndpoint from, QuicEndpoint to, CancellationToken cancellationToken) =>
        from.ConnectAsync(LoopbackKit.ClientOptions(to.LocalEndPoint, _certificate), cancellationToken).AsTask();
}
