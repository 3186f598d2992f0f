using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;

namespace Connet.Quic.Core.Tls;

/// <summary>
/// One ephemeral (EC)DHE key pair for a named group (RFC 8446 §4.2.8): X25519 via BouncyCastle, NIST curves via the
/// BCL with the uncompressed point encoding. Key material comes from the system CSPRNG.
/// </summary>
internal abstract class TlsKeyShare : IDisposable
{
    protected TlsKeyShare(TlsNamedGroup group) => Group = group;

    public TlsNamedGroup Group { get; }

    /// <summary>Our key_exchange bytes to put in the KeyShareEntry.</summary>
    public abstract byte[] PublicKey { get; }

    public static bool IsSupported(ushort group) =>
        group is (ushort)TlsNamedGroup.X25519 or (ushort)TlsNamedGroup.Secp256r1 or (ushort)TlsNamedGroup.Secp384r1;

    public static TlsKeyShare Create(TlsNamedGroup group) => group switch
    {
        TlsNamedGroup.X25519 => new X25519Share(),
        TlsNamedGroup.Secp256r1 => new EcdhShare(group, ECCurve.NamedCurves.nistP256, 32),
        TlsNamedGroup.Secp384r1 => new EcdhShare(group, ECCurve.NamedCurves.nistP384, 48),
        _ => throw new ArgumentOutOfRangeException(nameof(group), group, "Unsupported key exchange group."),
    };

    /// <summary>The shared secret with the peer's key_exchange bytes; an invalid peer key is illegal_parameter.</summary>
    public abstract byte[] DeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey);

    public abstract void Dispose();

    private static QuicProtocolException InvalidPeerKey(TlsNamedGroup group, string why) =>
        TlsAlert.Error(TlsAlert.IllegalParameter, $"Invalid {group} key share: {why}.");

    private sealed class X25519Share : TlsKeyShare
    {
        private const int KeyLength = 32;
        private readonly X25519PrivateKeyParameters _privateKey;

        public X25519Share()
            : base(TlsNamedGroup.X25519)
        {
            byte[] scalar = new byte[KeyLength];
            RandomNumberGenerator.Fill(scalar);
            _privateKey = new X25519PrivateKeyParameters(scalar, 0);
            CryptographicOperations.ZeroMemory(scalar);
            PublicKey = _privateKey.GeneratePublicKey().GetEncoded();
        }

        public override byte[] PublicKey { get; }

        public override byte[] DeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey)
        {
            if (peerPublicKey.Length != KeyLength)
            {
                throw InvalidPeerKey(Group, $"length {peerPublicKey.Length}, expected {KeyLength}");
            }

            byte[] secret = new byte[KeyLength];
            try
            {
                _privateKey.GenerateSecret(new X25519PublicKeyParameters(peerPublicKey.ToArray(), 0), secret, 0);
            }
            catch (InvalidOperationException)
            {
                throw InvalidPeerKey(Group, "low-order point");
            }

            // RFC 8446 §7.4.2: an all-zero X25519 output means a small-order peer point.
            if (secret.AsSpan().IndexOfAnyExcept((byte)0) < 0)
            {
                throw InvalidPeerKey(Group, "all-zero shared secret");
            }

            return secret;
        }

        public override void Dispose()
        {
        }
    }

    private sealed class EcdhShare : TlsKeyShare
    {
        private readonly ECDiffieHellman _key;
        private readonly ECCurve _curve;
        private readonly int _coordinateLength;

        public EcdhShare(TlsNamedGroup group, ECCurve curve, int coordinateLength)
            : base(group)
        {
            _curve = curve;
            _coordinateLength = coordinateLength;
            _key = ECDiffieHellman.Create(curve);
            ECParameters parameters = _key.ExportParameters(includePrivateParameters: false);
            byte[] encoded = new byte[1 + (2 * coordinateLength)];
            encoded[0] = 0x04;
            parameters.Q.X!.CopyTo(encoded, 1);
            parameters.Q.Y!.CopyTo(encoded, 1 + coordinateLength);
            PublicKey = encoded;
        }

        public override byte[] PublicKey { get; }

        public override byte[] DeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey)
        {
            if (peerPublicKey.Length != 1 + (2 * _coordinateLength) || peerPublicKey[0] != 0x04)
            {
                throw InvalidPeerKey(Group, "not an uncompressed point of the right length");
            }

            var parameters = new ECParameters
            {
                Curve = _curve,
                Q = new ECPoint
                {
                    X = peerPublicKey.Slice(1, _coordinateLength).ToArray(),
                    Y = peerPublicKey.Slice(1 + _coordinateLength, _coordinateLength).ToArray(),
                },
            };

            try
            {
                using var peer = ECDiffieHellman.Create(parameters);
                return _key.DeriveRawSecretAgreement(peer.PublicKey);
            }
            catch (CryptographicException)
            {
                throw InvalidPeerKey(Group, "point not on the curve");
            }
        }

        public override void Dispose() => _key.Dispose();
    }
}
