using System.Buffers.Binary;
using System.Text;

namespace Platform.IntegrationTests.Telemetry;

/// <summary>
/// Just enough of the protobuf wire format to read OTLP export requests: fields by number, varints,
/// fixed-width numbers and length-delimited values (strings, bytes, nested messages). Unknown fields
/// are skipped, so the decoder reads only what the tests look at.
/// </summary>
internal sealed class ProtobufReader(ReadOnlyMemory<byte> data)
{
    private int _position;

    public int Field { get; private set; }
    private int _wireType;

    public bool Next()
    {
        if (_position >= data.Length) return false;
        var key = Varint();
        Field = (int)(key >> 3);
        _wireType = (int)(key & 7);
        return true;
    }

    public ulong Varint()
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = data.Span[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
    }

    public ulong Fixed64()
    {
        var value = BinaryPrimitives.ReadUInt64LittleEndian(data.Span[_position..]);
        _position += 8;
        return value;
    }

    public double Double() => BitConverter.UInt64BitsToDouble(Fixed64());

    public ReadOnlyMemory<byte> Bytes()
    {
        var length = (int)Varint();
        var bytes = data.Slice(_position, length);
        _position += length;
        return bytes;
    }

    public ProtobufReader Message() => new(Bytes());

    public string String() => Encoding.UTF8.GetString(Bytes().Span);

    public string Hex() => Convert.ToHexStringLower(Bytes().Span);

    public void Skip()
    {
        switch (_wireType)
        {
            case 0: Varint(); break;
            case 1: _position += 8; break;
            case 2: Bytes(); break;
            case 5: _position += 4; break;
            default: throw new InvalidDataException($"protobuf wire type {_wireType} is not supported");
        }
    }
}
