-- tshark has no dissector for the RFC 5845 TLV header (PROTOCOLS.md 5.3), so
-- golden.rs loads this one for the UDP-TLV goldens:
--   tshark -X lua_script:udp_tlv.lua -r down_udptlv_o4_i4.pcap ...
-- It only names the four octets (type nibble, reserved nibble, next header,
-- length) and hands what follows to tshark's own dissector for the next
-- header (GRE). A first nibble of 4 or 6 is a plain IPv4-UDP packet (RFC 5844).
local tlv = Proto("anchor_tlv", "PMIPv6 UDP-TLV header (RFC 5845)")
local f_type = ProtoField.uint8("anchor_tlv.type", "Type", base.DEC, nil, 0xf0)
local f_reserved = ProtoField.uint8("anchor_tlv.reserved", "Reserved", base.DEC, nil, 0x0f)
local f_nexthdr = ProtoField.uint8("anchor_tlv.nexthdr", "Next Header")
local f_length = ProtoField.uint16("anchor_tlv.length", "Length")
tlv.fields = { f_type, f_reserved, f_nexthdr, f_length }

local ip = Dissector.get("ip")
local ip_proto = DissectorTable.get("ip.proto")

function tlv.dissector(tvb, pinfo, tree)
    if tvb:len() < 4 or tvb(0, 1):bitfield(0, 4) ~= 0 then
        return ip:call(tvb, pinfo, tree)
    end
    local t = tree:add(tlv, tvb(0, 4))
    t:add(f_type, tvb(0, 1))
    t:add(f_reserved, tvb(0, 1))
    t:add(f_nexthdr, tvb(1, 1))
    t:add(f_length, tvb(2, 2))
    ip_proto:try(tvb(1, 1):uint(), tvb(4):tvb(), pinfo, tree)
end

DissectorTable.get("udp.port"):add(5437, tlv)
