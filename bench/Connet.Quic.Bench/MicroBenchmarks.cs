using BenchmarkDotNet.Attributes;
using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Crypto;
using Connet.Quic.Core.Frames;
using Connet.Quic.Core.Packets;

namespace Connet.Quic.Bench;

/// <summary>Sealing one 1200-byte 1-RTT packet: AEAD plus header protection, per cipher suite.</summary>
[MemoryDiagnoser]
public class PacketProtectionBenchmarks
{
    private const int PacketSize = 1200;
    private const int PacketNumberLength = 2;

    private readonly byte[] _packet = new byte[PacketSize];
    private readonly byte[] _connectionId = [1, 2, 3, 4, 5, 6, 7, 8];
    private IPacketKey _packetKey = null!;
    private IHeaderKey _headerKey = null!;
    private int _payloadOffset;
    private int _packetNumberOffset;
    private ulong _packetNumber;

    [Params("AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305")]
    public string Suite { get; set; } = "AES-128-GCM";

    [GlobalSetup]
    public void Setup()
    {
        CipherSuite suite = Suite switch
        {
            "AES-256-GCM" => CipherSuite.Aes256GcmSha384,
            "ChaCha20-Poly1305" => CipherSuite.ChaCha20Poly1305Sha256,
            _ => CipherSuite.Aes128GcmSha256,
        };
        byte[] secret = new byte[suite.HashLength()];
        new Random(7).NextBytes(secret);
        _packetKey = QuicKeys.CreatePacketKey(suite, secret);
        _headerKey = QuicKeys.CreateHeaderKey(suite, secret);
        _payloadOffset = PacketWriter.WriteShortHeader(_packet, false, false, _connectionId, 0, PacketNumberLength, out _packetNumberOffset);
    }

    [Benchmark]
    public int Seal1200()
    {
        ulong packetNumber = _packetNumber++;
        int payloadLength = PacketSize - _payloadOffset - _packetKey.TagLength;
        PacketWriter.WriteShortHeader(_packet, false, false, _connectionId, packetNumber, PacketNumberLength, out _);
        return PacketWriter.Protect(_packet, _packetNumberOffset, PacketNumberLength, packetNumber, payloadLength, _packetKey, _headerKey);
    }
}

/// <summary>Frame coding on the data path: decoding a full packet's payload and encoding an ACK frame.</summary>
[MemoryDiagnoser]
public class FrameBenchmarks
{
    private readonly byte[] _payload = new byte[1200 - 9 - 2 - 16];
    private readonly byte[] _ackBuffer = new byte[256];
    private readonly AckRange[] _ackRanges = [new(990, 1000), new(950, 980), new(900, 940), new(10, 800)];
    private int _payloadLength;

    [GlobalSetup]
    public void Setup()
    {
        // A typical bulk-transfer packet: an ACK, a MAX_DATA, then one STREAM frame filling the rest.
        var writer = new SpanWriter(_payload);
        AckFrame.Encode(ref writer, _ackRanges.AsSpan(0, 2), ackDelay: 25, ecn: null);
        new MaxDataFrame(16 * 1024 * 1024).Encode(ref writer);
        int room = StreamFrame.MaxDataLength(0, 123_456, writer.Remaining, withLength: false);
        StreamFrame.Encode(ref writer, 0, 123_456, new byte[room], fin: false, withLength: false);
        _payloadLength = writer.Position;
    }

    [Benchmark]
    public long DecodeFullPacket()
    {
        var reader = new SpanReader(_payload.AsSpan(0, _payloadLength));
        long checksum = 0;
        while (!reader.IsEmpty)
        {
            FrameType type = FrameTypes.Read(ref reader, out ulong rawType);
            switch (type)
            {
                case FrameType.Ack or FrameType.AckEcn:
                    AckFrame ack = AckFrame.Decode(ref reader, rawType);
                    foreach (AckRange range in ack.GetRanges())
                    {
                        checksum += (long)range.Largest;
                    }

                    break;
                case FrameType.MaxData:
                    checksum += (long)MaxDataFrame.Decode(ref reader).Maximum;
                    break;
                case FrameType.Stream:
                    checksum += StreamFrame.Decode(ref reader, rawType).Data.Length;
                    break;
                default:
                    throw new InvalidOperationException($"unexpected frame {type}");
            }
        }

        return checksum;
    }

    [Benchmark]
    public int EncodeAck()
    {
        var writer = new SpanWriter(_ackBuffer);
        AckFrame.Encode(ref writer, _ackRanges, ackDelay: 25, ecn: null);
        return writer.Position;
    }
}
