using System.Buffers.Binary;
using System.Net;

namespace Connet.Client.Nat;

/// <summary>NAT-PMP result codes (RFC 6886 §3.5).</summary>
internal enum NatPmpResultCode : ushort
{
    Success = 0,
    UnsupportedVersion = 1,
    NotAuthorized = 2,
    NetworkFailure = 3,
    OutOfResources = 4,
    UnsupportedOpcode = 5,
}

/// <summary>An op 128 answer: the gateway's seconds since its mappings were last reset, and its external IPv4 address.</summary>
internal readonly record struct NatPmpExternalAddress(uint Epoch, IPAddress Address);

/// <summary>An op 129 answer: the mapping the gateway made (the external port may differ from the one suggested).</summary>
internal readonly record struct NatPmpUdpMapping(uint Epoch, ushort InternalPort, ushort ExternalPort, uint LifetimeSeconds);

/// <summary>
/// NAT-PMP messages (RFC 6886 §3.2, §3.3), as pure functions: what a client sends and what it accepts back. Every
/// answer is checked for its exact length, version 0, the expected opcode and a success result before it is used.
/// </summary>
internal static class NatPmpProtocol
{
    /// <summary>Where gateways listen (RFC 6886 §3.1).</summary>
    public const int GatewayPort = 5351;

    public const byte Version = 0;
    public const byte ExternalAddressOpcode = 0;
    public const byte MapUdpOpcode = 1;

    /// <summary>A server's answer is the request's opcode plus 128.</summary>
    public const byte ResponseBit = 128;

    public const int ExternalAddressResponseLength = 12;
    public const int MapResponseLength = 16;

    /// <summary>Version 0, opcode 0: "what is your external address?" (2 bytes).</summary>
    public static byte[] EncodeExternalAddressRequest() => [Version, ExternalAddressOpcode];

    /// <summary>
    /// Version 0, opcode 1 (UDP), 2 reserved zero bytes, internal port, suggested external port, lifetime in seconds
    /// (12 bytes, network order). A lifetime of 0 with a suggested external port of 0 deletes the mapping (§3.4).
    /// </summary>
    public static byte[] EncodeMapUdpRequest(ushort internalPort, ushort suggestedExternalPort, uint lifetimeSeconds)
    {
        var request = new byte[12];
        request[0] = Version;
        request[1] = MapUdpOpcode;
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(4), internalPort);
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(6), suggestedExternalPort);
        BinaryPrimitives.WriteUInt32BigEndian(request.AsSpan(8), lifetimeSeconds);
        return request;
    }

    /// <summary>Reads an op 128 answer; on failure <paramref name="problem"/> says what is wrong with it.</summary>
    public static bool TryParseExternalAddressResponse(ReadOnlySpan<byte> datagram, out NatPmpExternalAddress response, out string? problem)
    {
        response = default;
        if (!TryReadHeader(datagram, ExternalAddressOpcode, ExternalAddressResponseLength, out uint epoch, out problem))
        {
            return false;
        }

        response = new NatPmpExternalAddress(epoch, new IPAddress(datagram.Slice(8, 4)));
        return true;
    }

    /// <summary>Reads an op 129 answer; on failure <paramref name="problem"/> says what is wrong with it.</summary>
    public static bool TryParseMapUdpResponse(ReadOnlySpan<byte> datagram, out NatPmpUdpMapping response, out string? problem)
    {
        response = default;
        if (!TryReadHeader(datagram, MapUdpOpcode, MapResponseLength, out uint epoch, out problem))
        {
            return false;
        }

        response = new NatPmpUdpMapping(
            epoch,
            BinaryPrimitives.ReadUInt16BigEndian(datagram[8..]),
            BinaryPrimitives.ReadUInt16BigEndian(datagram[10..]),
            BinaryPrimitives.ReadUInt32BigEndian(datagram[12..]));
        return true;
    }

    /// <summary>Whether <paramref name="datagram"/> is an answer to <paramref name="requestOpcode"/> at all (right version and opcode).</summary>
    public static bool IsResponseTo(ReadOnlySpan<byte> datagram, byte requestOpcode) =>
        datagram.Length >= 2 && datagram[0] == Version && datagram[1] == (byte)(requestOpcode | ResponseBit);

    public static string Describe(NatPmpResultCode code) => code switch
    {
        NatPmpResultCode.Success => "success",
        NatPmpResultCode.UnsupportedVersion => "unsupported version",
        NatPmpResultCode.NotAuthorized => "not authorized/refused (NAT-PMP is probably disabled on the gateway)",
        NatPmpResultCode.NetworkFailure => "network failure (the gateway has no external address yet)",
        NatPmpResultCode.OutOfResources => "out of resources (the gateway cannot create more mappings)",
        NatPmpResultCode.UnsupportedOpcode => "unsupported opcode",
        _ => $"unknown result code {(ushort)code}",
    };

    private static bool TryReadHeader(ReadOnlySpan<byte> datagram, byte requestOpcode, int length, out uint epoch, out string? problem)
    {
        epoch = 0;
        problem = null;
        if (datagram.Length < 4)
        {
            problem = $"{datagram.Length} bytes is too short for a NAT-PMP answer";
            return false;
        }

        if (datagram[0] != Version)
        {
            problem = $"version {datagram[0]} instead of {Version}";
            return false;
        }

        byte expected = (byte)(requestOpcode | ResponseBit);
        if (datagram[1] != expected)
        {
            problem = $"opcode {datagram[1]} instead of {expected}";
            return false;
        }

        var result = (NatPmpResultCode)BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        if (result != NatPmpResultCode.Success)
        {
            problem = $"the gateway answered opcode {expected} with result {(ushort)result}: {Describe(result)}";
            return false;
        }

        if (datagram.Length != length)
        {
            problem = $"{datagram.Length} bytes instead of {length} for opcode {expected}";
            return false;
        }

        epoch = BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]);
        return true;
    }
}
