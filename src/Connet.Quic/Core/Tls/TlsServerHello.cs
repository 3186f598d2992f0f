using Connet.Quic.Core.Coding;

namespace Connet.Quic.Core.Tls;

/// <summary>A ServerHello or HelloRetryRequest (RFC 8446 §4.1.3, §4.1.4); HRR is a ServerHello with a fixed random.</summary>
internal sealed class TlsServerHello
{
    /// <summary>SHA-256("HelloRetryRequest"), the random that marks a ServerHello as HelloRetryRequest.</summary>
    public static ReadOnlySpan<byte> HelloRetryRequestRandom =>
    [
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
        0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
    ];

    public bool IsHelloRetryRequest { get; init; }

    public ushort CipherSuite { get; init; }

    public int LegacySessionIdLength { get; init; }

    public ushort? SelectedVersion { get; init; }

    public ushort KeyShareGroup { get; init; }

    /// <summary>The server's key_exchange bytes; empty in a HelloRetryRequest.</summary>
    public byte[] KeyExchange { get; init; } = [];

    public byte[]? Cookie { get; init; }

    public static TlsServerHello Parse(ReadOnlyMemory<byte> body)
    {
        var reader = new SpanReader(body.Span);
        ushort legacyVersion = reader.ReadUInt16("ServerHello version");
        ReadOnlySpan<byte> random = reader.ReadBytes(32, "ServerHello random");
        int sessionIdLength = reader.ReadVector(1, 0, 32, "ServerHello legacy_session_id_echo").Length;
        ushort cipherSuite = reader.ReadUInt16("ServerHello cipher_suite");
        byte compression = reader.ReadUInt8("ServerHello compression method");
        TlsExtensions extensions = TlsExtensions.Read(ref reader, body, "ServerHello");
        reader.ExpectEnd("ServerHello");
        bool isRetry = random.SequenceEqual(HelloRetryRequestRandom);
        string name = isRetry ? "HelloRetryRequest" : "ServerHello";

        if (legacyVersion != TlsClientHello.Tls12Version)
        {
            throw TlsAlert.Error(TlsAlert.ProtocolVersion, $"{name} legacy_version 0x{legacyVersion:x4} is not 0x0303.");
        }

        if (compression != 0)
        {
            throw TlsAlert.Error(TlsAlert.IllegalParameter, $"{name} selected a compression method.");
        }

        foreach (ushort type in extensions.Types)
        {
            bool allowed = type is (ushort)TlsExtensionType.SupportedVersions or (ushort)TlsExtensionType.KeyShare ||
                (isRetry && type == (ushort)TlsExtensionType.Cookie);
            if (!allowed)
            {
                throw TlsAlert.Error(TlsAlert.UnsupportedExtension, $"{name} carries extension {type}, which was not offered.");
            }
        }

        ushort? version = null;
        if (extensions.TryGet(TlsExtensionType.SupportedVersions, out ReadOnlyMemory<byte> versionBody))
        {
            var r = new SpanReader(versionBody.Span);
            version = r.ReadUInt16("supported_versions selected_version");
            r.ExpectEnd("supported_versions");
        }

        ushort group = 0;
        byte[] keyExchange = [];
        if (extensions.TryGet(TlsExtensionType.KeyShare, out ReadOnlyMemory<byte> shareBody))
        {
            var r = new SpanReader(shareBody.Span);
            group = r.ReadUInt16("key_share group");
            if (!isRetry)
            {
                keyExchange = r.ReadVector(2, 1, ushort.MaxValue, "key_share key_exchange").ToArray();
            }

            r.ExpectEnd("key_share");
        }
        else if (!isRetry)
        {
            throw TlsAlert.Error(TlsAlert.MissingExtension, "ServerHello lacks key_share (PSK-only handshakes are not offered).");
        }

        byte[]? cookie = null;
        if (extensions.TryGet(TlsExtensionType.Cookie, out ReadOnlyMemory<byte> cookieBody))
        {
            var r = new SpanReader(cookieBody.Span);
            cookie = r.ReadVector(2, 1, ushort.MaxValue, "cookie").ToArray();
            r.ExpectEnd("cookie");
        }

        return new TlsServerHello
        {
            IsHelloRetryRequest = isRetry,
            CipherSuite = cipherSuite,
            LegacySessionIdLength = sessionIdLength,
            SelectedVersion = version,
            KeyShareGroup = group,
            KeyExchange = keyExchange,
            Cookie = cookie,
        };
    }

    /// <summary>Encodes a ServerHello (or, with <paramref name="keyExchange"/> null, a HelloRetryRequest).</summary>
    public static byte[] Encode(ReadOnlySpan<byte> random, Crypto.CipherSuite cipherSuite, TlsNamedGroup group, byte[]? keyExchange)
    {
        byte[] buffer = new byte[128 + (keyExchange?.Length ?? 0)];
        var w = new SpanWriter(buffer);
        TlsVectorMark message = w.BeginMessage(TlsHandshakeType.ServerHello);
        w.WriteUInt16(TlsClientHello.Tls12Version);
        w.WriteBytes(keyExchange is null ? HelloRetryRequestRandom : random);
        w.WriteByte(0);
        w.WriteUInt16((ushort)cipherSuite);
        w.WriteByte(0);
        TlsVectorMark extensions = w.BeginVector(2);
        TlsVectorMark versions = w.BeginExtension(TlsExtensionType.SupportedVersions);
        w.WriteUInt16(TlsClientHello.Tls13Version);
        w.EndVector(versions);
        TlsVectorMark share = w.BeginExtension(TlsExtensionType.KeyShare);
        w.WriteUInt16((ushort)group);
        if (keyExchange is not null)
        {
            w.WriteVector(2, keyExchange);
        }

        w.EndVector(share);
        w.EndVector(extensions);
        w.EndVector(message);
        return buffer.AsSpan(0, w.Position).ToArray();
    }
}
