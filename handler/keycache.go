package handler

import "unsafe"

// keyCacheSlots is how many keys a keyCache remembers; a power of two.
const keyCacheSlots = 256

// maxCachedKey is the longest key a keyCache remembers: longer ones are
// rare and their text is written each time.
const maxCachedKey = 64

// keyCache remembers how the writer writes the attribute keys it meets
// most: the key as a JSON string with its colon (`"method":`, or
// `"duration_ms":` for a duration), and whether the Redactor calls it
// secret. A program logs the same few keys over and over, usually the very
// same string constants, so this saves escaping each key and matching it
// against the secret keys on every line.
//
// It belongs to the writer goroutine (it is not safe for concurrent use),
// and to one Redactor. A slot is found by the address and length of the
// key's bytes and confirmed by comparing the keys themselves, which for
// the same constant is one pointer comparison; a miss computes the slot
// afresh, so what it returns is always right for the key asked.
type keyCache struct {
	slots [keyCacheSlots]keySlot
}

// keySlot is one key's entry in a keyCache.
type keySlot struct {
	key    string
	dur    bool   // text is the key of a duration (k_ms)
	secret bool   // the Redactor calls the key secret
	text   []byte // the key as JSON with its colon
}

// lookup returns the slot of key (as a duration's key when dur), filling
// it on a miss; nil for a key too long to remember.
func (kc *keyCache) lookup(key string, dur bool, red *Redactor) *keySlot {
	if len(key) > maxCachedKey {
		return nil
	}
	h := uintptr(unsafe.Pointer(unsafe.StringData(key)))
	h ^= h >> 7
	h += uintptr(len(key))
	if dur {
		h++
	}
	slot := &kc.slots[h&(keyCacheSlots-1)]
	if slot.dur == dur && slot.key == key && slot.text != nil {
		return slot
	}
	slot.key, slot.dur = key, dur
	slot.secret = red.SecretKey(key)
	text := slot.text[:0]
	if dur {
		text = appendDurationKey(text, key)
	} else {
		text = appendString(text, key)
	}
	slot.text = append(text, ':')
	return slot
}
