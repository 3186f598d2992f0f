using System.Net;
using System.Net.Sockets;
using Connet.Quic;
using Microsoft.Extensions.Logging;

namespace Connet.Client.Nat;

/// <summary>Where to send NAT-PMP requests, or why there is no gateway to ask.</summary>
internal readonly record struct NatPmpGatewayChoice(IPEndPoint? Gateway, string? Problem);

/// <summary>A mapping the gateway holds for us: the direct port as the outside sees it, until <see cref="ExpiresAt"/>.</summary>
internal sealed record NatPmpMapping(IPEndPoint Gateway, IPEndPoint External, DateTimeOffset ExpiresAt);

/// <summary>A NAT-PMP request that failed: no answer, a refusal or an answer we cannot use.</summary>
internal sealed class NatPmpException(string message) : Exception(message);

/// <summary>
/// Keeps a NAT-PMP UDP mapping of the direct port (connet-protocol.md §3, RFC 6886) over the client's own socket, so
/// the gateway maps exactly the port peers dial: asks the external address (op 0), maps the port (op 1, 600 s, same
/// external port suggested), renews at half-life and checks the external address and the gateway's epoch every
/// minute, remapping at once when the epoch shows the gateway lost its mappings. Deletes the mapping when stopped.
/// </summary>
internal sealed partial class NatPmpClient
{
    public const uint LifetimeSeconds = 600;

    /// <summary>RFC 6886 §3.1: the first retransmission after 250 ms, doubling, 9 attempts in all.</summary>
    public static readonly TimeSpan InitialTimeout = TimeSpan.FromMilliseconds(250);
    public const int MaxAttempts = 9;

    /// <summary>How often the external address and epoch are checked between renewals (we do not join 224.0.0.1).</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(60);

    /// <summary>Wait after a failure (no gateway, no answer, a refusal) before trying again.</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(60);

    /// <summary>Datagrams that are not the awaited answer we skip per attempt before giving the attempt up.</summary>
    private const int MaxIgnoredPerAttempt = 64;

    private readonly QuicEndpoint _socket;
    private readonly Func<CancellationToken, Task<NatPmpGatewayChoice>> _findGateway;
    private readonly Action _mappingChanged;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private IPEndPoint? _gateway;
    private NatPmpMapping? _mapping;
    private string? _lastError;
    private uint? _epoch;
    private long _epochSeenAt;

    /// <param name="mappingChanged">Called (outside any lock) when the mapping appears, changes or is lost.</param>
    public NatPmpClient(QuicEndpoint socket, Func<CancellationToken, Task<NatPmpGatewayChoice>> findGateway, Action mappingChanged, TimeProvider timeProvider, ILogger logger)
    {
        _socket = socket;
        _findGateway = findGateway;
        _mappingChanged = mappingChanged;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    private ushort InternalPort => (ushort)_socket.LocalEndPoint.Port;

    /// <summary>The mapping's external address while one is held.</summary>
    public IPEndPoint? External
    {
        get
        {
            lock (_lock)
            {
                return _mapping?.External;
            }
        }
    }

    public ConnetNatPmpStatus GetStatus()
    {
        lock (_lock)
        {
            TimeSpan? left = _mapping is null ? null : _mapping.ExpiresAt - _timeProvider.GetUtcNow();
            return new ConnetNatPmpStatus(_gateway, _mapping?.External, left is { } value && value < TimeSpan.Zero ? TimeSpan.Zero : left, _lastError);
        }
    }

    /// <summary>
    /// RFC 6886 §3.6: the gateway lost its mappings when its epoch went backwards, or advanced by clearly less than
    /// our own clock did (7/8 of our elapsed seconds, with 2 s of slack for rounding).
    /// </summary>
    public static bool EpochShowsReset(uint previousEpoch, uint epoch, TimeSpan elapsed)
    {
        if (epoch < previousEpoch)
        {
            return true;
        }

        double clientSeconds = Math.Max(0, elapsed.TotalSeconds);
        return (clientSeconds * 7 / 8) > (epoch - previousEpoch) + 2;
    }

    /// <summary>Maps until <paramref name="stopping"/>, retrying every failure; deletes the mapping (best effort) at the end.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                NatPmpGatewayChoice choice = await _findGateway(stopping).ConfigureAwait(false);
                if (choice.Gateway is null)
                {
                    Fail(null, choice.Problem ?? "no gateway");
                }
                else
                {
                    lock (_lock)
                    {
                        _gateway = choice.Gateway;
                        _epoch = null;
                    }

                    try
                    {
                        await MaintainAsync(choice.Gateway, stopping).ConfigureAwait(false);
                    }
                    catch (NatPmpException exception)
                    {
                        Fail(choice.Gateway, exception.Message);
                    }
                    catch (Exception exception) when (exception is SocketException or ArgumentException)
                    {
                        Fail(choice.Gateway, $"cannot send to the gateway: {exception.Message}");
                    }
                }

                await Task.Delay(RetryInterval, _timeProvider, stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException)
        {
            // The socket went away under us: the client is stopping.
        }
        finally
        {
            await DeleteMappingAsync().ConfigureAwait(false);
        }
    }

    private async Task MaintainAsync(IPEndPoint gateway, CancellationToken stopping)
    {
        DateTimeOffset renewAt = DateTimeOffset.MinValue;
        while (true)
        {
            byte[] answer = await RequestAsync(gateway, NatPmpProtocol.EncodeExternalAddressRequest(), NatPmpProtocol.ExternalAddressOpcode, stopping).ConfigureAwait(false);
            if (!NatPmpProtocol.TryParseExternalAddressResponse(answer, out var external, out string? problem))
            {
                throw new NatPmpException($"external address from {gateway}: {problem}");
            }

            if (external.Address.Equals(IPAddress.Any))
            {
                throw new NatPmpException($"the gateway {gateway} has no external address yet");
            }

            bool reset = ObserveEpoch(external.Epoch);
            NatPmpMapping? current;
            lock (_lock)
            {
                current = _mapping;
            }

            if (current is null || reset || !current.External.Address.Equals(external.Address) || _timeProvider.GetUtcNow() >= renewAt)
            {
                if (current is not null && reset)
                {
                    Log.GatewayReset(_logger, gateway.ToString());
                }

                ushort suggested = current is null ? InternalPort : (ushort)current.External.Port;
                answer = await RequestAsync(gateway, NatPmpProtocol.EncodeMapUdpRequest(InternalPort, suggested, LifetimeSeconds), NatPmpProtocol.MapUdpOpcode, stopping).ConfigureAwait(false);
                if (!NatPmpProtocol.TryParseMapUdpResponse(answer, out var mapped, out problem))
                {
                    throw new NatPmpException($"UDP mapping of port {InternalPort} by {gateway}: {problem}");
                }

                if (mapped.InternalPort != InternalPort || mapped.ExternalPort == 0 || mapped.LifetimeSeconds == 0)
                {
                    throw new NatPmpException($"the gateway {gateway} answered the mapping of port {InternalPort} with internal port {mapped.InternalPort}, external port {mapped.ExternalPort}, lifetime {mapped.LifetimeSeconds} s");
                }

                ObserveEpoch(mapped.Epoch);
                uint lifetime = Math.Min(mapped.LifetimeSeconds, 24 * 3600);
                DateTimeOffset now = _timeProvider.GetUtcNow();
                renewAt = now + TimeSpan.FromSeconds(lifetime / 2.0);
                var mapping = new NatPmpMapping(gateway, new IPEndPoint(external.Address, mapped.ExternalPort), now + TimeSpan.FromSeconds(lifetime));
                bool changed;
                lock (_lock)
                {
                    changed = _mapping is null || !_mapping.External.Equals(mapping.External);
                    _mapping = mapping;
                    _lastError = null;
                }

                if (changed)
                {
                    Log.Mapped(_logger, InternalPort, mapping.External.ToString(), gateway.ToString(), lifetime);
                    _mappingChanged();
                }
            }

            TimeSpan wait = renewAt - _timeProvider.GetUtcNow();
            await Task.Delay(wait < TimeSpan.Zero ? TimeSpan.Zero : wait > CheckInterval ? CheckInterval : wait, _timeProvider, stopping).ConfigureAwait(false);
        }
    }

    /// <summary>Records the gateway's epoch; true when it shows the gateway lost its mappings since the last answer.</summary>
    private bool ObserveEpoch(uint epoch)
    {
        long now = _timeProvider.GetTimestamp();
        lock (_lock)
        {
            bool reset = _epoch is { } previous && EpochShowsReset(previous, epoch, _timeProvider.GetElapsedTime(_epochSeenAt, now));
            _epoch = epoch;
            _epochSeenAt = now;
            return reset;
        }
    }

    /// <summary>
    /// Sends <paramref name="request"/> and waits for the gateway's answer to its opcode, retransmitting after 250 ms,
    /// then doubling, 9 attempts in all (RFC 6886 §3.1). Datagrams from anyone else, or answers to another opcode, are
    /// skipped; the answer is returned as is, for the caller to parse.
    /// </summary>
    private async Task<byte[]> RequestAsync(IPEndPoint gateway, byte[] request, byte opcode, CancellationToken stopping)
    {
        IPEndPoint target = _socket.LocalEndPoint.AddressFamily == AddressFamily.InterNetworkV6 && gateway.AddressFamily == AddressFamily.InterNetwork
            ? new IPEndPoint(gateway.Address.MapToIPv6(), gateway.Port)
            : gateway;
        TimeSpan timeout = InitialTimeout;
        for (int attempt = 1; attempt <= MaxAttempts; attempt++, timeout *= 2)
        {
            await _socket.SendRawDatagramAsync(request, target, stopping).ConfigureAwait(false);
            using var attemptTimeout = new CancellationTokenSource(timeout, _timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, attemptTimeout.Token);
            try
            {
                for (int ignored = 0; ignored < MaxIgnoredPerAttempt; ignored++)
                {
                    QuicRawDatagram datagram = await _socket.ReceiveRawDatagramAsync(linked.Token).ConfigureAwait(false);
                    if (!SameEndPoint(datagram.RemoteEndPoint, gateway))
                    {
                        Log.Ignored(_logger, datagram.RemoteEndPoint.ToString(), "not from the gateway");
                        continue;
                    }

                    if (!NatPmpProtocol.IsResponseTo(datagram.Data.Span, opcode))
                    {
                        Log.Ignored(_logger, datagram.RemoteEndPoint.ToString(), $"not an answer to opcode {opcode}");
                        continue;
                    }

                    return datagram.Data.ToArray();
                }
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
            {
                // This attempt timed out: send again, waiting twice as long.
            }
        }

        throw new NatPmpException($"no answer from the gateway {gateway} to opcode {opcode} after {MaxAttempts} attempts");
    }

    private static bool SameEndPoint(IPEndPoint received, IPEndPoint gateway)
    {
        IPAddress address = received.Address.IsIPv4MappedToIPv6 ? received.Address.MapToIPv4() : received.Address;
        return received.Port == gateway.Port && address.Equals(gateway.Address);
    }

    private void Fail(IPEndPoint? gateway, string problem)
    {
        bool lost;
        lock (_lock)
        {
            lost = _mapping is not null;
            _mapping = null;
            _lastError = problem;
            if (gateway is not null)
            {
                _gateway = gateway;
            }
        }

        Log.Failed(_logger, problem);
        if (lost)
        {
            _mappingChanged();
        }
    }

    /// <summary>Asks the gateway to drop our mapping (lifetime 0, RFC 6886 §3.4); one datagram, no wait: we are stopping.</summary>
    private async Task DeleteMappingAsync()
    {
        NatPmpMapping? mapping;
        lock (_lock)
        {
            mapping = _mapping;
            _mapping = null;
        }

        if (mapping is null)
        {
            return;
        }

        try
        {
            IPEndPoint target = _socket.LocalEndPoint.AddressFamily == AddressFamily.InterNetworkV6 && mapping.Gateway.AddressFamily == AddressFamily.InterNetwork
                ? new IPEndPoint(mapping.Gateway.Address.MapToIPv6(), mapping.Gateway.Port)
                : mapping.Gateway;
            await _socket.SendRawDatagramAsync(NatPmpProtocol.EncodeMapUdpRequest(InternalPort, 0, 0), target).ConfigureAwait(false);
            Log.Deleted(_logger, mapping.External.ToString(), mapping.Gateway.ToString());
        }
        catch (Exception exception) when (exception is ObjectDisposedException or SocketException or ArgumentException)
        {
            Log.Failed(_logger, $"could not delete the mapping {mapping.External}: {exception.Message}");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "NAT-PMP: direct port {Port} mapped to {External} by {Gateway} for {Lifetime} s")]
        public static partial void Mapped(ILogger logger, int port, string external, string gateway, uint lifetime);

        [LoggerMessage(2, LogLevel.Warning, "NAT-PMP: {Problem}; retrying in a minute")]
        public static partial void Failed(ILogger logger, string problem);

        [LoggerMessage(3, LogLevel.Information, "NAT-PMP: the gateway {Gateway} lost its mappings (epoch went back); remapping")]
        public static partial void GatewayReset(ILogger logger, string gateway);

        [LoggerMessage(4, LogLevel.Debug, "NAT-PMP: ignored a datagram from {Remote}: {Reason}")]
        public static partial void Ignored(ILogger logger, string remote, string reason);

        [LoggerMessage(5, LogLevel.Information, "NAT-PMP: deleted the mapping {External} at {Gateway}")]
        public static partial void Deleted(ILogger logger, string external, string gateway);
    }
}
