using System.Net;
using Connet.Core.Protocol.Wire;

namespace Connet.Server.Control;

/// <summary>A point-in-time view of the control server, for a status endpoint or tests.</summary>
public sealed record ControlServerStatus(
    IReadOnlyList<IPEndPoint> ClientIngresses,
    IReadOnlyList<ControlClientStatus> Clients,
    IReadOnlyList<ControlEndpointStatus> Endpoints,
    IReadOnlyList<IPEndPoint> RelayIngressEndPoints,
    IReadOnlyList<ControlRelayStatus> Relays);

/// <summary>An authenticated, connected client.</summary>
public sealed record ControlClientStatus(string Id, IPEndPoint Address, string Metadata, string BuildVersion, DateTimeOffset ConnectedAt);

/// <summary>An endpoint name and everything announced for it.</summary>
public sealed record ControlEndpointStatus(string Name, IReadOnlyList<ControlPeerStatus> Peers);

/// <summary>One announcement; <see cref="ExpiresAt"/> is set while its client is disconnected and in its grace period.</summary>
public sealed record ControlPeerStatus(string ClientId, Role Role, string Metadata, IReadOnlyList<IPEndPoint> Directs, IReadOnlyList<string> RelayIds, DateTimeOffset? ExpiresAt);

/// <summary>An authenticated, connected relay and the addresses it gave for clients.</summary>
public sealed record ControlRelayStatus(string Id, IPEndPoint RemoteAddress, IReadOnlyList<string> Hostports, string Metadata, DateTimeOffset ConnectedAt);
