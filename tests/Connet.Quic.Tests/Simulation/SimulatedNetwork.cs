using System.Net;
using System.Net.Security;
using Connet.Quic.Core;
using Connet.Quic.Core.Connection;
using Connet.Quic.Core.Packets;
using Connet.Quic.Core.Tls;

namespace Connet.Quic.Tests.Simulation;

/// <summary>
/// A deterministic network for two connections, modelled on quinn's test Pair: virtual time, latency, random loss,
/// duplication and reordering from a seed; no sockets. The server connection is created on the client's first Initial.
/// </summary>
internal sealed class SimulatedNetwork : IDisposable
{
    public static readonly SslApplicationProtocol Alpn = new("connet-test");

    private readonly PriorityQueue<InFlight, (long, long)> _inFlight = new();
    private readonly Random _random;
    private readonly byte[] _buffer = new byte[1500];
    private readonly Func<ConnectionOptions> _serverOptions;
    private readonly Func<TlsServerConfig> _serverTls;
    private long _sequence;

    public SimulatedNetwork(int seed = 1, ConnectionOptions? clientOptions = null, Func<ConnectionOptions>? serverOptions = null, TlsClientConfig? clientTls = null, Func<TlsServerConfig>? serverTls = null)
    {
        _random = new Random(seed);
        ClientAddress = new IPEndPoint(IPAddress.Parse("198.18.0.1"), 40000);
        ServerAddress = new IPEndPoint(IPAddress.Parse("198.18.0.2"), 443);
        _serverOptions = serverOptions ?? (() => new ConnectionOptions { Random = RandomSource.Seeded(seed + 1) });
        _serverTls = serverTls ?? DefaultServerTls;
        Client = Connection.CreateClient(clientOptions ?? new ConnectionOptions { Random = RandomSource.Seeded(seed) }, clientTls ?? DefaultClientTls(), ServerAddress, Now);
    }

    public Instant Now { get; private set; } = new(1_000_000);

    public TimeSpan Latency { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Probability that a datagram is lost, each direction.</summary>
    public double LossRate { get; set; }

    public double DuplicateRate { get; set; }

    /// <summary>Probability that a datagram is held back by up to one extra latency, overtaking others.</summary>
    public double ReorderRate { get; set; }

    /// <summary>The address the client's datagrams appear to come from; change it to simulate a NAT rebinding.</summary>
    public IPEndPoint ClientAddress { get; set; }

    public IPEndPoint ServerAddress { get; }

    public Connection Client { get; }

    public Connection? Server { get; private set; }

    public List<ConnectionEvent> ClientEvents { get; } = new();

    public List<ConnectionEvent> ServerEvents { get; } = new();

    public long DatagramsDelivered { get; private set; }

    /// <summary>Datagrams larger than this are dropped, as by a link with a smaller MTU.</summary>
    public int PathMtu { get; set; } = 1500;

    /// <summary>Drops the client datagrams it returns true for, before any random loss (targeted reordering and loss).</summary>
    public Func<byte[], bool>? DropClientDatagram { get; set; }

    public static TlsServerConfig DefaultServerTls() => new()
    {
        Authentication = new SslServerAuthenticationOptions
        {
            ServerCertificate = TestCertificates.Server,
            ApplicationProtocols = [Alpn],
        },
    };

    public static TlsClientConfig DefaultClientTls() => new()
    {
        Authentication = new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = [Alpn],
            RemoteCertificateValidationCallback = TestCertificates.Pin(TestCertificates.Server),
        },
    };

    /// <summary>Runs until <paramref name="condition"/> holds; false if the network went idle or the step bound was hit first.</summary>
    public bool RunUntil(Func<bool> condition, int maxSteps = 200_000)
    {
        for (int i = 0; i < maxSteps; i++)
        {
            if (condition())
            {
                return true;
            }

            if (!Step())
            {
                return condition();
            }
        }

        return condition();
    }

    /// <summary>Runs for a span of virtual time.</summary>
    public void RunFor(TimeSpan span, int maxSteps = 200_000)
    {
        Instant end = Now + span;
        for (int i = 0; i < maxSteps && Now < end; i++)
        {
            if (!Step(end))
            {
                Now = end;
                return;
            }
        }
    }

    /// <summary>Flushes both sides, then advances to the next event (a delivery or a timer). False when nothing is left to happen.</summary>
    public bool Step(Instant? limit = null)
    {
        Flush(Client, ClientAddress, toServer: true);
        if (Server is not null)
        {
            Flush(Server, ServerAddress, toServer: false);
        }

        Instant next = Client.PollTimeout();
        if (Server is not null)
        {
            next = Instant.Min(next, Server.PollTimeout());
        }

        if (_inFlight.TryPeek(out _, out (long At, long Sequence) head))
        {
            next = Instant.Min(next, new Instant(head.At));
        }

        if (next == Instant.Never)
        {
            return false;
        }

        if (limit is { } l && next > l)
        {
            Now = l;
            return true;
        }

        if (next > Now)
        {
            Now = next;
        }

        while (_inFlight.TryPeek(out InFlight? datagram, out (long At, long Sequence) key) && key.At <= Now.Microseconds)
        {
            _inFlight.Dequeue();
            Deliver(datagram);
        }

        if (Client.PollTimeout() <= Now)
        {
            Client.HandleTimeout(Now);
        }

        if (Server is not null && Server.PollTimeout() <= Now)
        {
            Server.HandleTimeout(Now);
        }

        Collect();
        return true;
    }

    public void Dispose()
    {
        Client.Dispose();
        Server?.Dispose();
    }

    private void Flush(Connection connection, IPEndPoint from, bool toServer)
    {
        for (int i = 0; i < 10_000; i++)
        {
            int length = connection.PollTransmit(Now, _buffer, out IPEndPoint destination);
            if (length == 0)
            {
                break;
            }

            if (_random.NextDouble() < LossRate || length > PathMtu)
            {
                continue;
            }

            if (toServer && DropClientDatagram is { } drop && drop(_buffer.AsSpan(0, length).ToArray()))
            {
                continue;
            }

            int copies = _random.NextDouble() < DuplicateRate ? 2 : 1;
            for (int c = 0; c < copies; c++)
            {
                long delay = Latency.Ticks / TimeSpan.TicksPerMicrosecond;
                if (_random.NextDouble() < ReorderRate)
                {
                    delay += _random.NextInt64(1, Math.Max(2, delay));
                }

                var datagram = new InFlight(_buffer.AsSpan(0, length).ToArray(), from, destination, toServer);
                _inFlight.Enqueue(datagram, (Now.Microseconds + delay, _sequence++));
            }
        }

        Collect();
    }

    private void Deliver(InFlight datagram)
    {
        DatagramsDelivered++;
        if (datagram.ToServer)
        {
            if (!datagram.Destination.Equals(ServerAddress))
            {
                return;
            }

            if (Server is null)
            {
                if (!PacketParser.TryParse(datagram.Bytes, 8, out PacketHeader header) || header.Type != PacketType.Initial)
                {
                    return;
                }

                var original = new ConnectionId(datagram.Bytes.AsSpan(header.DestinationConnectionIdOffset, header.DestinationConnectionIdLength));
                Server = Connection.CreateServer(_serverOptions(), _serverTls(), datagram.Source, original, null, addressValidated: false, Now);
            }

            Server.HandleDatagram(Now, datagram.Source, datagram.Bytes);
        }
        else
        {
            // Datagrams to an address the client no longer has (after a rebinding) are lost, as behind a NAT.
            if (datagram.Destination.Port == ClientAddress.Port && datagram.Destination.Address.Equals(ClientAddress.Address))
            {
                Client.HandleDatagram(Now, datagram.Source, datagram.Bytes);
            }
        }
    }

    private void Collect()
    {
        while (Client.PollEvent(out ConnectionEvent e))
        {
            ClientEvents.Add(e);
        }

        while (Client.PollEndpointEvent(out _))
        {
        }

        if (Server is not null)
        {
            while (Server.PollEvent(out ConnectionEvent e))
            {
                ServerEvents.Add(e);
            }

            while (Server.PollEndpointEvent(out _))
            {
            }
        }
    }

    private sealed record InFlight(byte[] Bytes, IPEndPoint Source, IPEndPoint Destination, bool ToServer);
}
