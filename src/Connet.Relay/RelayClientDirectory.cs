using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire;
using Connet.Quic;

namespace Connet.Relay;

/// <summary>An authenticated client connection: one endpoint, one role, and the framing its ALPN chose.</summary>
internal sealed class RelayClient(QuicConnection connection, string endpoint, Role role, WireVersion wireVersion)
{
    public QuicConnection Connection { get; } = connection;

    public string Endpoint { get; } = endpoint;

    public Role Role { get; } = role;

    public WireVersion WireVersion { get; } = wireVersion;

    public override string ToString() => $"{Role} of {Endpoint} at {Connection.RemoteEndPoint}";
}

/// <summary>The authenticated client connections of a relay, by endpoint and role.</summary>
internal sealed class RelayClientDirectory
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, EndpointClients> _endpoints = new(StringComparer.Ordinal);

    public void Add(RelayClient client)
    {
        lock (_gate)
        {
            if (!_endpoints.TryGetValue(client.Endpoint, out var clients))
            {
                clients = _endpoints[client.Endpoint] = new EndpointClients();
            }

            clients.For(client.Role).Add(client);
        }
    }

    public void Remove(RelayClient client)
    {
        lock (_gate)
        {
            if (_endpoints.TryGetValue(client.Endpoint, out var clients)
                && clients.For(client.Role).Remove(client)
                && clients.Destinations.Count + clients.Sources.Count == 0)
            {
                _endpoints.Remove(client.Endpoint);
            }
        }
    }

    /// <summary>The destinations of <paramref name="endpoint"/>, lowest smoothed RTT first (as Go connet's relay picks them).</summary>
    public IReadOnlyList<RelayClient> DestinationsByRtt(string endpoint)
    {
        RelayClient[] destinations;
        lock (_gate)
        {
            destinations = _endpoints.TryGetValue(endpoint, out var clients) ? [.. clients.Destinations] : [];
        }

        // The RTT is read outside the lock: each read asks the connection's driver.
        return [.. destinations.Select(client => (Client: client, Rtt: client.Connection.SmoothedRtt)).OrderBy(entry => entry.Rtt).Select(entry => entry.Client)];
    }

    public IReadOnlyList<RelayEndpointStatus> Snapshot()
    {
        lock (_gate)
        {
            return [.. _endpoints
                .OrderBy(entry => entry.Key, StringComparer.Ordinal)
                .Select(entry => new RelayEndpointStatus(entry.Key, entry.Value.Destinations.Count, entry.Value.Sources.Count))];
        }
    }

    private sealed class EndpointClients
    {
        public HashSet<RelayClient> Destinations { get; } = [];

        public HashSet<RelayClient> Sources { get; } = [];

        public HashSet<RelayClient> For(Role role) => role == Role.Destination ? Destinations : Sources;
    }
}
